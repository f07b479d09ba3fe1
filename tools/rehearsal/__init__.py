"""The rehearsal (`python -m tools.rehearsal`, what `make demo` runs): the whole system on this machine."""
