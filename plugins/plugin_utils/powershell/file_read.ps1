# airgap.wsus host script
# operation: file_read
# input: Path, MaxBytes?
# output: path, exists, size, content_b64

# Reads the first MaxBytes (default 1 MiB) of a small file, base64-encoded. The file is opened
# with full sharing so a log another process is still writing can be read. The controller
# compares size with the decoded length to know whether it got everything.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Path,
    [ValidateRange(0, 67108864)][long]$MaxBytes = 1048576
)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$result = [ordered]@{
    path = $Path
    exists = $false
    size = $null
    content_b64 = $null
}
if ([System.IO.File]::Exists($Path)) {
    $share = [System.IO.FileShare]::ReadWrite -bor [System.IO.FileShare]::Delete
    $stream = New-Object -TypeName System.IO.FileStream -ArgumentList $Path, ([System.IO.FileMode]::Open), ([System.IO.FileAccess]::Read), $share
    try {
        $result.exists = $true
        $result.size = [long]$stream.Length
        $want = [int][Math]::Min($stream.Length, $MaxBytes)
        $buffer = [byte[]]::new($want)
        $got = 0
        while ($got -lt $want) {
            $read = $stream.Read($buffer, $got, $want - $got)
            if ($read -le 0) { break }
            $got += $read
        }
        $result.content_b64 = [System.Convert]::ToBase64String($buffer, 0, $got)
    }
    finally {
        $stream.Dispose()
    }
}

return $result
