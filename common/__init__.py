"""The bottom layer: words every other folder shares (topic ids and labels, urgency kinds,
risk levels, intents, whom a message is about) and the local time (Asia/Tokyo, weekdays).

Plain data and pure functions only; common/ imports nothing from the project.
"""
