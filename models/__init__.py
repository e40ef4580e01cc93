"""genbench.models"""
