# airgap.wsus host script
# operation: file_hash
# input: Paths, Algorithms
# output: files

# Hashes files (SHA-1 and/or SHA-256, upper-case hex) in parallel: a runspace pool of up to
# four workers, each reading a batch of files once and feeding every requested algorithm from
# the same buffer. Results keep the order of Paths. A file that cannot be read is reported
# with an error; the call itself only fails for bad arguments.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][AllowEmptyCollection()][string[]]$Paths,
    [Parameter(Mandatory = $true)][string[]]$Algorithms
)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$algorithmNames = @($Algorithms | ForEach-Object { ([string]$_).ToLowerInvariant() } | Select-Object -Unique)
foreach ($name in $algorithmNames) {
    if ($name -ne 'sha1' -and $name -ne 'sha256') { throw "unsupported hash algorithm '$name': use sha1 or sha256" }
}

# Runs in its own runspace: it may use nothing defined outside it.
$worker = {
    param([string[]]$Batch, [string[]]$Names)
    Set-StrictMode -Version 2.0
    $ErrorActionPreference = 'Stop'
    $buffer = [byte[]]::new(1048576)
    foreach ($path in $Batch) {
        $entry = [ordered]@{ path = $path; exists = $false; size = $null }
        foreach ($name in $Names) { $entry[$name] = $null }
        if ([System.IO.File]::Exists($path)) {
            $entry.exists = $true
            $hashers = @()
            $stream = $null
            try {
                $share = [System.IO.FileShare]::ReadWrite -bor [System.IO.FileShare]::Delete
                $stream = New-Object -TypeName System.IO.FileStream -ArgumentList $path, ([System.IO.FileMode]::Open), ([System.IO.FileAccess]::Read), $share, 1048576, ([System.IO.FileOptions]::SequentialScan)
                $entry.size = [long]$stream.Length
                $hashers = @(foreach ($name in $Names) {
                        if ($name -eq 'sha1') { [System.Security.Cryptography.SHA1]::Create() } else { [System.Security.Cryptography.SHA256]::Create() }
                    })
                while (($read = $stream.Read($buffer, 0, $buffer.Length)) -gt 0) {
                    foreach ($hasher in $hashers) { [void]$hasher.TransformBlock($buffer, 0, $read, $null, 0) }
                }
                for ($i = 0; $i -lt $hashers.Count; $i++) {
                    [void]$hashers[$i].TransformFinalBlock($buffer, 0, 0)
                    $entry[$Names[$i]] = [System.BitConverter]::ToString($hashers[$i].Hash).Replace('-', '')
                }
            }
            catch {
                $entry['error'] = $_.Exception.Message
                foreach ($name in $Names) { $entry[$name] = $null }
            }
            finally {
                if ($null -ne $stream) { $stream.Dispose() }
                foreach ($hasher in $hashers) { $hasher.Dispose() }
            }
        }
        elseif ([System.IO.Directory]::Exists($path)) {
            $entry['error'] = 'the path is a folder, not a file'
        }
        [pscustomobject]$entry
    }
}

$files = New-Object -TypeName System.Collections.Generic.List[object]
$count = $Paths.Count
if ($count -le 16) {
    foreach ($item in (& $worker $Paths $algorithmNames)) { $files.Add($item) }
}
else {
    $threads = [Math]::Max(1, [Math]::Min(4, [Environment]::ProcessorCount))
    # Small batches keep the workers evenly busy when file sizes vary widely.
    $batchSize = [Math]::Max(8, [Math]::Min(256, [Math]::Ceiling($count / ($threads * 8))))
    $pool = [System.Management.Automation.Runspaces.RunspaceFactory]::CreateRunspacePool(1, $threads)
    $pool.Open()
    $tasks = New-Object -TypeName System.Collections.Generic.List[object]
    try {
        for ($start = 0; $start -lt $count; $start += $batchSize) {
            $end = [Math]::Min($count, $start + $batchSize) - 1
            $batch = [string[]]$Paths[$start..$end]
            $shell = [System.Management.Automation.PowerShell]::Create()
            $shell.RunspacePool = $pool
            [void]$shell.AddScript($worker.ToString()).AddArgument($batch).AddArgument([string[]]$algorithmNames)
            $tasks.Add([pscustomobject]@{ Shell = $shell; Handle = $shell.BeginInvoke() })
        }
        foreach ($task in $tasks) {
            foreach ($item in $task.Shell.EndInvoke($task.Handle)) { $files.Add($item) }
        }
    }
    finally {
        foreach ($task in $tasks) { $task.Shell.Dispose() }
        $pool.Close()
        $pool.Dispose()
    }
}

return [ordered]@{
    files = $files.ToArray()
}
