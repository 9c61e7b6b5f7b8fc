"""Matchmaking board: municipalities state per topic whether they run, plan or are interested in a
project; the board links them with reasons, suggests meetings and topic tables, and plans them into the
networking slots."""
