# airgap.wsus host script
# operation: file_copy
# input: Source, Destination
# output: path, exists, changed, size, sha256

# Copies a small file (a signed document, its signature) on the host, so that a file the
# controller does not need to read never crosses the connection twice. The copy is atomic: a
# temporary file in the destination's folder, flushed, then a replace; missing folders are
# created. A destination that already holds exactly these bytes is left alone (changed is
# false). exists is false when Source is not a file (nothing is done). size and sha256
# (lower-case hex) describe the bytes the destination holds afterwards.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Source,
    [Parameter(Mandatory = $true)][string]$Destination
)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

function Get-Sha256Hex {
    param([byte[]]$Bytes)
    $sha = [System.Security.Cryptography.SHA256]::Create()
    try { return [System.BitConverter]::ToString($sha.ComputeHash($Bytes)).Replace('-', '').ToLowerInvariant() } finally { $sha.Dispose() }
}

$full = [System.IO.Path]::GetFullPath($Destination)
if (-not [System.IO.File]::Exists($Source)) {
    return [ordered]@{ path = $full; exists = $false; changed = $false; size = $null; sha256 = $null }
}
if ([System.IO.Directory]::Exists($full)) { throw "cannot write $full because it is a folder" }
$bytes = [System.IO.File]::ReadAllBytes($Source)
$sha256 = Get-Sha256Hex -Bytes $bytes

if ([System.IO.File]::Exists($full)) {
    $existing = [System.IO.File]::ReadAllBytes($full)
    if ($existing.Length -eq $bytes.Length -and (Get-Sha256Hex -Bytes $existing) -eq $sha256) {
        return [ordered]@{ path = $full; exists = $true; changed = $false; size = [long]$bytes.Length; sha256 = $sha256 }
    }
}

$folder = [System.IO.Path]::GetDirectoryName($full)
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
            # ReplaceFile is unsupported on some file systems and shares (exFAT media among them).
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
    exists = $true
    changed = $true
    size = [long]$bytes.Length
    sha256 = $sha256
}
