"""What WinRS and cmd.exe do with a command line sent to the emulated host."""
from __future__ import annotations

import base64


def test_builtins(run) -> None:
    assert run('echo hello  world').stdout == 'hello  world\r\n'
    assert run('echo.').stdout == '\r\n'
    assert run('echo').stdout == 'ECHO is on.\r\n'
    assert run('hostname').stdout == 'wsus1\r\n'
    assert run('whoami').stdout == 'wsus1\\administrator\r\n'
    assert run('whoami', username='operator').stdout == 'wsus1\\operator\r\n'
    assert run('chcp').stdout == 'Active code page: 65001\r\n'
    assert run('chcp', codepage=437).stdout == 'Active code page: 437\r\n'
    assert run('cd').stdout == 'C:\\Users\\Administrator\r\n'
    assert run('ver').stdout.startswith('\r\nMicrosoft Windows [Version 10.0.')
    assert run('set COMPUTERNAME').stdout == 'COMPUTERNAME=WSUS1\r\n'
    assert run('echo %USERPROFILE% %UNDEFINED%').stdout == 'C:\\Users\\Administrator %UNDEFINED%\r\n'


def test_exit_codes_and_chaining(run) -> None:
    assert run('exit /b 7').exit_code == 7
    assert run('exit 300').exit_code == 300
    result = run('echo a & exit /b 2 & echo never')
    assert (result.stdout, result.exit_code) == ('a \r\n', 2)      # cmd keeps the blank before "&"
    assert run('nosuchcmd && echo yes || echo no').stdout == 'no\r\n'
    assert run('cmd /c "echo inner & exit /b 4"').exit_code == 4
    assert run('cmd.exe /c exit /b 9').exit_code == 9


def test_unknown_command(run) -> None:
    result = run('frobnicate --now')
    assert result.exit_code == 1 and result.stdout == ''
    assert result.stderr == ("'frobnicate' is not recognized as an internal or external command,\r\n"
                             "operable program or batch file.\r\n")


def test_redirection_pipes_and_type(run, host) -> None:
    assert run('echo one > C:\\Windows\\Temp\\f.txt & echo two>>c:\\windows\\temp\\F.TXT').stdout == ''
    assert host.fs.read_bytes('C:\\Windows\\Temp\\f.txt') == b'one  \r\ntwo\r\n'   # the blanks around "> f" stay
    assert run('type C:\\Windows\\Temp\\f.txt').stdout == b'one  \r\ntwo\r\n'
    assert run('type C:\\Windows\\Temp\\missing.txt').stderr == 'The system cannot find the file specified.\r\n'
    assert run('nosuch 2>nul').stderr == ''
    assert run('echo piped | more').stdout == 'piped \r\n'
    assert run('more', stdin=b'from stdin\r\n').stdout == 'from stdin\r\n'


def test_skipping_cmd_exe_runs_programs_only(run) -> None:
    result = run('echo hi', skip_cmd_shell=True)
    assert result.exit_code == 1 and result.stderr == 'The system cannot find the file specified.\r\n'
    assert run('hostname', skip_cmd_shell=True).stdout == 'wsus1\r\n'


def test_powershell_refuses_scripts_it_does_not_emulate(run) -> None:
    script = 'Get-Process\nStop-Computer -Force\n'
    encoded = base64.b64encode(script.encode('utf-16-le')).decode()
    result = run('powershell.exe -NoProfile -EncodedCommand ' + encoded)
    assert result.exit_code == 1
    assert 'does not emulate this PowerShell script' in result.stderr
    assert 'Get-Process' in result.stderr and 'Stop-Computer -Force' in result.stderr
    result = run('PowerShell -Command "Get-Date"')
    assert result.exit_code == 1 and 'Get-Date' in result.stderr


def test_accounts_and_registry(host) -> None:
    assert host.authenticate('Administrator', 'Adm-Pass-1') and host.authenticate('WSUS1\\administrator', 'Adm-Pass-1')
    assert host.authenticate('.\\operator', 'Op-Pass-1') and host.authenticate('operator@wsus1', 'Op-Pass-1')
    assert not host.authenticate('Administrator', 'adm-pass-1')
    assert not host.authenticate('OTHERDOMAIN\\Administrator', 'Adm-Pass-1')
    assert host.is_admin('administrator') and not host.is_admin('operator')
    key = 'HKLM:\\SOFTWARE\\Microsoft\\Update Services\\Server\\Setup'
    host.registry.set_value(key, 'ContentDir', 'D:\\WSUS', 'REG_EXPAND_SZ')
    host.registry.set_value(key, 'PortNumber', 8530)
    assert host.registry.get_value('HKEY_LOCAL_MACHINE\\software\\microsoft\\update services\\server\\setup',
                                   'contentdir') == 'D:\\WSUS'
    assert host.registry.get_kind(key, 'PortNumber') == 'REG_DWORD'
    assert host.registry.values(key) == {'ContentDir': 'D:\\WSUS', 'PortNumber': 8530}
    assert host.registry.subkeys('HKLM\\SOFTWARE\\Microsoft\\Update Services') == ['Server']


def test_cmd_c_quote_rules(run, host) -> None:
    host.register_executable('C:\\Program Files\\x y\\args.exe', lambda proc: proc.write('|'.join(proc.argv[1:]) + '\n') or 0)
    assert run('cmd /c "C:\\Program Files\\x y\\args.exe" one').stdout == 'one\r\n'
    assert run('cmd /c ""C:\\Program Files\\x y\\args.exe" "a b" c"').stdout == 'a b|c\r\n'
    assert run('cmd /s /c ""C:\\Program Files\\x y\\args.exe" two"').stdout == 'two\r\n'
    assert run('set NOPE_NOT_SET').stderr == 'Environment variable NOPE_NOT_SET not defined\r\n'
