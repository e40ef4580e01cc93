"""genbench.generators"""
