"""The emulated Windows Server host of the lab: paths, drives, registry, accounts, processes,
cmd.exe and the only PowerShell it can run. Start at :mod:`.host` (``build_host``)."""
