"""genbench.benchmark"""
