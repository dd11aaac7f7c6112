"""emocast.evaluation"""
