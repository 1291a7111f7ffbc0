# airgap.wsus host script
# operation: digest_write
# input: Path?, Root?, Sources?, Digests?
# output: path, root_exists, changed, count, size, sha256, sources, files, errors

# Builds a digest file where the data is, so that inventories of a million files never cross
# the connection: raw 20-byte SHA-1 digests, sorted ascending without repeats (the format of
# receipts' inventories and of the export side's records). The set is the union of the
# digests named by the files under Root (relative path XX\<40 upper-case hex digits>.<ext>,
# XX the last two digits; junctions are not entered), of the digests in each Sources file,
# and of Digests (40 hex digits each). With Path the file is written atomically (a temporary
# file in the same folder, then a replace), unless it already holds exactly these bytes
# (changed is false); without Path nothing is written and only the figures are answered.
# sha256 is that of the file's bytes, in lower-case hex. Each Sources file is reported with the
# SHA-256 of the bytes used, for the controller to check; one that is missing or not a whole
# number of sorted, distinct digests is reported with an error and adds nothing.
[CmdletBinding()]
param(
    [string]$Path = '',
    [string]$Root = '',
    [AllowEmptyCollection()][string[]]$Sources = @(),
    [AllowEmptyCollection()][string[]]$Digests = @()
)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

function Get-Sha256Hex {
    param([byte[]]$Bytes)
    $sha = [System.Security.Cryptography.SHA256]::Create()
    try { return [System.BitConverter]::ToString($sha.ComputeHash($Bytes)).Replace('-', '').ToLowerInvariant() } finally { $sha.Dispose() }
}

function Read-DigestFile {
    param([string]$File, [System.Collections.Generic.HashSet[string]]$Into)
    $report = [ordered]@{ path = $File; exists = $false; size = $null; count = $null; sha256 = $null; error = $null }
    if (-not [System.IO.File]::Exists($File)) {
        $report['error'] = 'the file does not exist'
        return $report
    }
    $report['exists'] = $true
    try {
        $bytes = [System.IO.File]::ReadAllBytes($File)
    }
    catch {
        $report['error'] = $_.Exception.Message
        return $report
    }
    $report['size'] = [long]$bytes.Length
    $report['sha256'] = Get-Sha256Hex -Bytes $bytes
    if ($bytes.Length % 20 -ne 0) {
        $report['error'] = "$($bytes.Length) bytes are not a whole number of 20-byte SHA-1 digests"
        return $report
    }
    $number = [int]($bytes.Length / 20)
    $hex = [System.BitConverter]::ToString($bytes).Replace('-', '')
    $found = [string[]]::new($number)
    $previous = ''
    for ($i = 0; $i -lt $number; $i++) {
        $digest = $hex.Substring($i * 40, 40)
        if ([string]::CompareOrdinal($digest, $previous) -le 0) {
            $report['error'] = "the digests are not sorted ascending without repeats (at digest $($i + 1))"
            return $report
        }
        $found[$i] = $digest
        $previous = $digest
    }
    $Into.UnionWith($found)
    $report['count'] = $number
    return $report
}

$set = New-Object -TypeName 'System.Collections.Generic.HashSet[string]' -ArgumentList ([System.StringComparer]::Ordinal)
foreach ($item in $Digests) {
    $text = ([string]$item).ToUpperInvariant()
    if ($text -notmatch '^[0-9A-F]{40}$') { throw "'$item' is not a SHA-1 digest (40 hex digits)" }
    [void]$set.Add($text)
}
$reports = New-Object -TypeName System.Collections.Generic.List[object]
foreach ($file in $Sources) { $reports.Add((Read-DigestFile -File $file -Into $set)) }

$errors = New-Object -TypeName System.Collections.Generic.List[object]
$listed = 0
$rootExists = $null
if ($Root) {
    # A name that states its content: the folder is the digest's last two digits. Case matters, as it does on the controller.
    $hashName = New-Object -TypeName System.Text.RegularExpressions.Regex -ArgumentList '^([0-9A-F]{2})\\([0-9A-F]{38}\1)\.[A-Za-z0-9]{1,16}\z'
    $rootPath = $Root.TrimEnd('\')
    if ($rootPath -match '^[A-Za-z]:$') { $rootPath += '\' }
    $prefixLength = $rootPath.TrimEnd('\').Length + 1
    $rootExists = [System.IO.Directory]::Exists($rootPath)
    if ($rootExists) {
        $pending = New-Object -TypeName System.Collections.Generic.Stack[System.IO.DirectoryInfo]
        $pending.Push((New-Object -TypeName System.IO.DirectoryInfo -ArgumentList $rootPath))
        while ($pending.Count -gt 0) {
            $folder = $pending.Pop()
            try {
                $children = $folder.GetFileSystemInfos()
            }
            catch {
                $errors.Add([ordered]@{ path = $folder.FullName; error = $_.Exception.Message })
                continue
            }
            foreach ($child in $children) {
                if ($child -is [System.IO.DirectoryInfo]) {
                    if (($child.Attributes -band [System.IO.FileAttributes]::ReparsePoint) -eq 0) { $pending.Push($child) }
                    continue
                }
                $listed++
                $match = $hashName.Match($child.FullName.Substring($prefixLength))
                if ($match.Success) { [void]$set.Add($match.Groups[2].Value) }
            }
        }
    }
}

$sorted = [string[]]::new($set.Count)
$set.CopyTo($sorted)
[System.Array]::Sort($sorted, [System.StringComparer]::Ordinal)
if ($sorted.Length -gt 0) {
    $bytes = [System.Runtime.Remoting.Metadata.W3cXsd2001.SoapHexBinary]::Parse([string]::Concat($sorted)).Value
}
else {
    $bytes = [byte[]]::new(0)
}
$sha256 = Get-Sha256Hex -Bytes $bytes

$full = $null
$changed = $false
if ($Path) {
    $full = [System.IO.Path]::GetFullPath($Path)
    if ([System.IO.Directory]::Exists($full)) { throw "cannot write $full because it is a folder" }
    $same = $false
    if ([System.IO.File]::Exists($full)) {
        $existing = [System.IO.File]::ReadAllBytes($full)
        $same = $existing.Length -eq $bytes.Length -and (Get-Sha256Hex -Bytes $existing) -eq $sha256
    }
    if (-not $same) {
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
        $changed = $true
    }
}

return [ordered]@{
    path = $full
    root_exists = $rootExists
    changed = $changed
    count = $sorted.Length
    size = [long]$bytes.Length
    sha256 = $sha256
    sources = $reports.ToArray()
    files = $listed
    errors = $errors.ToArray()
}
