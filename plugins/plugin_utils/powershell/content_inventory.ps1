# airgap.wsus host script
# operation: content_inventory
# input: Root, Algorithms?
# output: root, exists, files, count, bytes, errors

# Lists every file under Root (usually <ContentDir>\WsusContent) as
# [relative_path, size, hash...] with hashes in the order of Algorithms, computed in parallel
# by a runspace pool when asked for. Junctions and symbolic links to folders are not entered
# (a loop would never end). Folders that cannot be read are listed in errors rather than
# failing the whole inventory; so are files that cannot be hashed (their hashes are null).
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$Root,
    [AllowEmptyCollection()][string[]]$Algorithms = @()
)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$algorithmNames = @($Algorithms | ForEach-Object { ([string]$_).ToLowerInvariant() } | Select-Object -Unique)
foreach ($name in $algorithmNames) {
    if ($name -ne 'sha1' -and $name -ne 'sha256') { throw "unsupported hash algorithm '$name': use sha1 or sha256" }
}

$rootPath = $Root.TrimEnd('\')
if ($rootPath -match '^[A-Za-z]:$') { $rootPath += '\' }
$prefixLength = $rootPath.TrimEnd('\').Length + 1

$relative = New-Object -TypeName System.Collections.Generic.List[string]
$sizes = New-Object -TypeName System.Collections.Generic.List[long]
$errors = New-Object -TypeName System.Collections.Generic.List[object]
$total = [long]0
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
            }
            else {
                $relative.Add($child.FullName.Substring($prefixLength))
                $sizes.Add([long]$child.Length)
                $total += [long]$child.Length
            }
        }
        # Push in reverse so folders come out in name order (the listing is then sorted anyway).
        for ($i = $subfolders.Count - 1; $i -ge 0; $i--) { $pending.Push($subfolders[$i]) }
    }
}

$hashes = $null
if ($algorithmNames.Count -gt 0 -and $relative.Count -gt 0) {
    # Runs in its own runspace: it may use nothing defined outside it.
    $worker = {
        param([string[]]$Batch, [string[]]$Names)
        Set-StrictMode -Version 2.0
        $ErrorActionPreference = 'Stop'
        $buffer = [byte[]]::new(1048576)
        foreach ($path in $Batch) {
            $values = [object[]]::new($Names.Count)
            $hashers = @()
            $stream = $null
            try {
                $share = [System.IO.FileShare]::ReadWrite -bor [System.IO.FileShare]::Delete
                $stream = New-Object -TypeName System.IO.FileStream -ArgumentList $path, ([System.IO.FileMode]::Open), ([System.IO.FileAccess]::Read), $share, 1048576, ([System.IO.FileOptions]::SequentialScan)
                $hashers = @(foreach ($name in $Names) {
                        if ($name -eq 'sha1') { [System.Security.Cryptography.SHA1]::Create() } else { [System.Security.Cryptography.SHA256]::Create() }
                    })
                while (($read = $stream.Read($buffer, 0, $buffer.Length)) -gt 0) {
                    foreach ($hasher in $hashers) { [void]$hasher.TransformBlock($buffer, 0, $read, $null, 0) }
                }
                for ($i = 0; $i -lt $hashers.Count; $i++) {
                    [void]$hashers[$i].TransformFinalBlock($buffer, 0, 0)
                    $values[$i] = [System.BitConverter]::ToString($hashers[$i].Hash).Replace('-', '')
                }
                $message = $null
            }
            catch {
                $values = [object[]]::new($Names.Count)
                $message = $_.Exception.Message
            }
            finally {
                if ($null -ne $stream) { $stream.Dispose() }
                foreach ($hasher in $hashers) { $hasher.Dispose() }
            }
            [pscustomobject]@{ Path = $path; Values = $values; Error = $message }
        }
    }
    $fullPaths = [string[]]::new($relative.Count)
    for ($i = 0; $i -lt $relative.Count; $i++) { $fullPaths[$i] = [System.IO.Path]::Combine($rootPath, $relative[$i]) }
    $hashes = New-Object -TypeName System.Collections.Generic.List[object]
    $threads = [Math]::Max(1, [Math]::Min(4, [Environment]::ProcessorCount))
    $batchSize = [Math]::Max(8, [Math]::Min(256, [Math]::Ceiling($fullPaths.Count / ($threads * 8))))
    $pool = [System.Management.Automation.Runspaces.RunspaceFactory]::CreateRunspacePool(1, $threads)
    $pool.Open()
    $tasks = New-Object -TypeName System.Collections.Generic.List[object]
    try {
        for ($start = 0; $start -lt $fullPaths.Count; $start += $batchSize) {
            $end = [Math]::Min($fullPaths.Count, $start + $batchSize) - 1
            $shell = [System.Management.Automation.PowerShell]::Create()
            $shell.RunspacePool = $pool
            [void]$shell.AddScript($worker.ToString()).AddArgument([string[]]$fullPaths[$start..$end]).AddArgument([string[]]$algorithmNames)
            $tasks.Add([pscustomobject]@{ Shell = $shell; Handle = $shell.BeginInvoke() })
        }
        foreach ($task in $tasks) {
            foreach ($item in $task.Shell.EndInvoke($task.Handle)) { $hashes.Add($item) }
        }
    }
    finally {
        foreach ($task in $tasks) { $task.Shell.Dispose() }
        $pool.Close()
        $pool.Dispose()
    }
}

$files = New-Object -TypeName System.Collections.Generic.List[object]
for ($i = 0; $i -lt $relative.Count; $i++) {
    $record = New-Object -TypeName System.Collections.Generic.List[object]
    $record.Add($relative[$i])
    $record.Add($sizes[$i])
    if ($null -ne $hashes) {
        $hashed = $hashes[$i]
        foreach ($value in $hashed.Values) { $record.Add($value) }
        if ($null -ne $hashed.Error) { $errors.Add([ordered]@{ path = $hashed.Path; error = $hashed.Error }) }
    }
    $files.Add($record.ToArray())
}

return [ordered]@{
    root = $rootPath
    exists = $exists
    files = $files.ToArray()
    count = $relative.Count
    bytes = $total
    errors = $errors.ToArray()
}
