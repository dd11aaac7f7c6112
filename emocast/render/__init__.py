"""emocast.render"""
