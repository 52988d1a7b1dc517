"""Every benchmark with one command. Same as: python -m kcore.bench"""
from kcore.bench.__main__ import main

main()
