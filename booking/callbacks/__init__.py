"""Callback requests: reception logs a call, a caseworker calls back by a due time."""
