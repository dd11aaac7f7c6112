"""emocast.motion"""
