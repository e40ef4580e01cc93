"""genbench.leaderboard"""
