# airgap.wsus host script
# operation: content_delta
# input: Root, Held?, Include?
# output: root, exists, files, count, bytes, held_count, held_bytes, sources, errors

# The export side's half of a bundle delta, done where the files are so that only the files
# the other side lacks cross the connection. Lists every file under Root (usually
# <ContentDir>\WsusContent; junctions are not entered) and answers [relative_path, size] for
# each one, except the files the other side holds: a file whose relative path is
# XX\<40 upper-case hex digits>.<extension> (XX the last two digits: a name that states its
# SHA-1) and whose digest is in one of the Held files. Include names relative paths (\ or /,
# any case) that are listed even then: files the import side reported missing.
# A Held file holds raw 20-byte SHA-1 digests, sorted ascending without repeats (receipts'
# inventories and the export side's records). Each is reported in sources with the SHA-256 of
# the exact bytes used, for the controller to compare with the value a signature or its own
# record vouches for before it trusts the answer; one that is missing or not a whole number
# of sorted, distinct digests is reported with an error and holds nothing.
# count and bytes cover every file under Root; held_count and held_bytes the files left out.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Root,
    [AllowEmptyCollection()][string[]]$Held = @(),
    [AllowEmptyCollection()][string[]]$Include = @()
)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

function Read-DigestFile {
    param([string]$Path, [System.Collections.Generic.HashSet[string]]$Into)
    $report = [ordered]@{ path = $Path; exists = $false; size = $null; count = $null; sha256 = $null; error = $null }
    if (-not [System.IO.File]::Exists($Path)) {
        $report['error'] = 'the file does not exist'
        return $report
    }
    $report['exists'] = $true
    try {
        $bytes = [System.IO.File]::ReadAllBytes($Path)
    }
    catch {
        $report['error'] = $_.Exception.Message
        return $report
    }
    $report['size'] = [long]$bytes.Length
    $sha = [System.Security.Cryptography.SHA256]::Create()
    try { $report['sha256'] = [System.BitConverter]::ToString($sha.ComputeHash($bytes)).Replace('-', '').ToLowerInvariant() } finally { $sha.Dispose() }
    if ($bytes.Length % 20 -ne 0) {
        $report['error'] = "$($bytes.Length) bytes are not a whole number of 20-byte SHA-1 digests"
        return $report
    }
    $count = [int]($bytes.Length / 20)
    $hex = [System.BitConverter]::ToString($bytes).Replace('-', '')
    $digests = [string[]]::new($count)
    $previous = ''
    for ($i = 0; $i -lt $count; $i++) {
        $digest = $hex.Substring($i * 40, 40)
        if ([string]::CompareOrdinal($digest, $previous) -le 0) {
            $report['error'] = "the digests are not sorted ascending without repeats (at digest $($i + 1))"
            return $report
        }
        $digests[$i] = $digest
        $previous = $digest
    }
    $Into.UnionWith($digests)
    $report['count'] = $count
    return $report
}

$held = New-Object -TypeName 'System.Collections.Generic.HashSet[string]' -ArgumentList ([System.StringComparer]::Ordinal)
$sources = New-Object -TypeName System.Collections.Generic.List[object]
foreach ($file in $Held) { $sources.Add((Read-DigestFile -Path $file -Into $held)) }
$wanted = New-Object -TypeName 'System.Collections.Generic.HashSet[string]' -ArgumentList ([System.StringComparer]::OrdinalIgnoreCase)
foreach ($item in $Include) { [void]$wanted.Add(([string]$item).Replace('/', '\')) }
# A name that states its content: the folder is the digest's last two digits. Case matters, as it does on the controller.
$hashName = New-Object -TypeName System.Text.RegularExpressions.Regex -ArgumentList '^([0-9A-F]{2})\\([0-9A-F]{38}\1)\.[A-Za-z0-9]{1,16}\z'

$rootPath = $Root.TrimEnd('\')
if ($rootPath -match '^[A-Za-z]:$') { $rootPath += '\' }
$prefixLength = $rootPath.TrimEnd('\').Length + 1

$files = New-Object -TypeName System.Collections.Generic.List[object]
$errors = New-Object -TypeName System.Collections.Generic.List[object]
$count = 0
$total = [long]0
$heldCount = 0
$heldBytes = [long]0
$exists = [System.IO.Directory]::Exists($rootPath)

if ($exists) {
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
        $subfolders = New-Object -TypeName System.Collections.Generic.List[System.IO.DirectoryInfo]
        foreach ($child in $children) {
            if ($child -is [System.IO.DirectoryInfo]) {
                if (($child.Attributes -band [System.IO.FileAttributes]::ReparsePoint) -eq 0) { $subfolders.Add($child) }
                continue
            }
            $relative = $child.FullName.Substring($prefixLength)
            $size = [long]$child.Length
            $count++
            $total += $size
            $match = $hashName.Match($relative)
            if ($match.Success -and $held.Contains($match.Groups[2].Value) -and -not $wanted.Contains($relative)) {
                $heldCount++
                $heldBytes += $size
            }
            else {
                $files.Add([object[]]@($relative, $size))
            }
        }
        for ($i = $subfolders.Count - 1; $i -ge 0; $i--) { $pending.Push($subfolders[$i]) }
    }
}

return [ordered]@{
    root = $rootPath
    exists = $exists
    files = $files.ToArray()
    count = $count
    bytes = $total
    held_count = $heldCount
    held_bytes = $heldBytes
    sources = $sources.ToArray()
    errors = $errors.ToArray()
}
