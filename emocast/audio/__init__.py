"""emocast.audio"""
