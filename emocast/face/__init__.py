"""emocast.face"""
