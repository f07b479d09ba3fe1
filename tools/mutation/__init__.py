"""`make mutation`: do the tests notice when the code they guard is broken? (docs/testing.md)"""
