# airgap.wsus host script
# operation: file_write
# input: Path, ContentB64, Overwrite?
# output: path, changed, size

# Writes a file atomically: the content goes to a temporary file in the same folder, is
# flushed to disk, then replaces the target in one step, so a reader never sees half a file.
# Missing folders are created. When the file already holds exactly this content nothing is
# written (changed is false); with Overwrite false an existing file is left alone.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Path,
    [Parameter(Mandatory = $true)][AllowEmptyString()][string]$ContentB64,
    [bool]$Overwrite = $true
)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

function Get-Digest {
    param([byte[]]$Bytes)
    $sha = [System.Security.Cryptography.SHA256]::Create()
    try { return [System.BitConverter]::ToString($sha.ComputeHash($Bytes)) } finally { $sha.Dispose() }
}

$bytes = [System.Convert]::FromBase64String($ContentB64)
$full = [System.IO.Path]::GetFullPath($Path)
$folder = [System.IO.Path]::GetDirectoryName($full)
if ([System.IO.Directory]::Exists($full)) { throw "cannot write $full because it is a folder" }

if ([System.IO.File]::Exists($full)) {
    $existing = New-Object -TypeName System.IO.FileInfo -ArgumentList $full
    if (-not $Overwrite) {
        return [ordered]@{ path = $full; changed = $false; size = [long]$existing.Length }
    }
    if ($existing.Length -eq $bytes.Length -and (Get-Digest ([System.IO.File]::ReadAllBytes($full))) -eq (Get-Digest $bytes)) {
        return [ordered]@{ path = $full; changed = $false; size = [long]$existing.Length }
    }
}

[void][System.IO.Directory]::CreateDirectory($folder)
$temp = [System.IO.Path]::Combine($folder, '.' + [System.IO.Path]::GetFileName($full) + '.' + [guid]::NewGuid().ToString('N') + '.tmp')
try {
    $stream = New-Object -TypeName System.IO.FileStream -ArgumentList $temp, ([System.IO.FileMode]::CreateNew), ([System.IO.FileAccess]::Write), ([System.IO.FileShare]::None)
    try {
        $stream.Write($bytes, 0, $bytes.Length)
        $stream.Flush($true)
    }
    finally {
        $stream.Dispose()
    }
    if ([System.IO.File]::Exists($full)) {
        try {
            [System.IO.File]::Replace($temp, $full, $null)
        }
        catch [System.PlatformNotSupportedException], [System.IO.IOException] {
            # ReplaceFile is unsupported on some file systems and shares: fall back to
            # delete-then-move, which leaves a short window without the file.
            [System.IO.File]::Delete($full)
            [System.IO.File]::Move($temp, $full)
        }
    }
    else {
        [System.IO.File]::Move($temp, $full)
    }
}
finally {
    if ([System.IO.File]::Exists($temp)) { [System.IO.File]::Delete($temp) }
}

return [ordered]@{
    path = $full
    changed = $true
    size = [long]$bytes.Length
}
