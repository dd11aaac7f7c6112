"""emocast.emotion"""
