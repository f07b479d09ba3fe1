"""The docs generator (`python -m tools.docs`): the reference parts of docs/ and the README, from the code."""
