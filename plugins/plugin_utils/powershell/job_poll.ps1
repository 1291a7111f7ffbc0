# airgap.wsus host script
# operation: job_poll
# input: JobRoot, JobId, TailBytes?, SpacePath?, Collect?, TailSteps?
# output: state, steps, free_bytes, now, started_at, ended_at, error, collected

# Reads a detached job's state. States: running; exited (the runner recorded its end: all
# steps ran, or one failed; the controller judges exit codes); cancelled; lost (the runner is
# gone without recording an end: killed, or the host rebooted); missing (no such job). Each
# step carries the last TailBytes of its log (the step's own log file when it names one, else
# stepN.out) and of stepN.err. TailSteps 'active' (default) limits tails to the running step,
# the last step that ended and failed steps, so polls stay small; 'all' tails every step that
# started. free_bytes is the space available on the volume of SpacePath, when given, so the
# controller can measure a copy's progress. Collect marks an ended job as collected: the next
# job_start with this JobId then starts anew instead of re-attaching.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$JobRoot,
    [Parameter(Mandatory = $true)][string]$JobId,
    [ValidateRange(0, 1048576)][int]$TailBytes = 4096,
    [string]$SpacePath,
    [bool]$Collect = $false,
    [ValidateSet('active', 'all')][string]$TailSteps = 'active'
)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$Invariant = [System.Globalization.CultureInfo]::InvariantCulture
$Utf8 = New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false
$StrictUtf8 = New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false, $true

function Get-IsoNow { return [datetime]::UtcNow.ToString('yyyy-MM-ddTHH:mm:ss.fffZ', $Invariant) }

function Get-Prop {
    param([object]$InputObject, [string]$Name)
    if ($null -eq $InputObject) { return $null }
    $property = $InputObject.PSObject.Properties[$Name]
    if ($null -eq $property) { return $null }
    return $property.Value
}

function Read-JsonFile {
    param([string]$Path)
    if (-not [System.IO.File]::Exists($Path)) { return $null }
    $share = [System.IO.FileShare]::ReadWrite -bor [System.IO.FileShare]::Delete
    for ($attempt = 1; ; $attempt++) {
        try {
            $stream = New-Object -TypeName System.IO.FileStream -ArgumentList $Path, ([System.IO.FileMode]::Open), ([System.IO.FileAccess]::Read), $share
            try {
                $reader = New-Object -TypeName System.IO.StreamReader -ArgumentList $stream, $Utf8
                $text = $reader.ReadToEnd()
            }
            finally {
                $stream.Dispose()
            }
            if (-not $text.Trim()) { return $null }
            return ConvertFrom-Json -InputObject $text
        }
        catch [System.IO.IOException] {
            if ($attempt -ge 5) { throw }
            Start-Sleep -Milliseconds 200
        }
    }
}

function Get-ProcessStart {
    param([int]$ProcessId)
    try {
        $process = [System.Diagnostics.Process]::GetProcessById($ProcessId)
        try { return $process.StartTime.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ss.fffZ', $Invariant) } finally { $process.Dispose() }
    }
    catch {
        return $null
    }
}

function Test-ProcessAlive {
    # Windows reuses process ids: a live process only counts if it started when ours did.
    param([object]$ProcessId, [object]$StartedAt)
    if ($null -eq $ProcessId -or -not $StartedAt) { return $false }
    $actual = Get-ProcessStart -ProcessId ([int]$ProcessId)
    if ($null -eq $actual) { return $false }
    $delta = ([datetime]::Parse($actual, $Invariant) - [datetime]::Parse([string]$StartedAt, $Invariant)).Duration()
    return $delta.TotalSeconds -lt 2
}

function Get-Utf8CompleteEnd {
    # Where the bytes up to $Length end on a whole UTF-8 character: before a lead byte whose
    # character the buffer cuts short.
    param([byte[]]$Buffer, [int]$Start, [int]$Length)
    for ($back = 1; $back -le 3 -and $Length - $back -ge $Start; $back++) {
        $byte = $Buffer[$Length - $back]
        if (($byte -band 0xC0) -eq 0x80) { continue }
        $need = 1
        if (($byte -band 0xE0) -eq 0xC0) { $need = 2 }
        elseif (($byte -band 0xF0) -eq 0xE0) { $need = 3 }
        elseif (($byte -band 0xF8) -eq 0xF0) { $need = 4 }
        if ($need -gt $back) { return $Length - $back }
        return $Length
    }
    return $Length
}

function Read-Tail {
    # The last $Bytes of a file as text. UTF-16 logs (robocopy /UNILOG) are recognised by their
    # byte-order mark; other logs are UTF-8 when they decode as such, else the ANSI code page.
    param([string]$Path, [int]$Bytes)
    if ($Bytes -le 0 -or -not [System.IO.File]::Exists($Path)) { return $null }
    $share = [System.IO.FileShare]::ReadWrite -bor [System.IO.FileShare]::Delete
    $stream = New-Object -TypeName System.IO.FileStream -ArgumentList $Path, ([System.IO.FileMode]::Open), ([System.IO.FileAccess]::Read), $share
    try {
        $head = [byte[]]::new(3)
        $headLength = $stream.Read($head, 0, 3)
        $unicode = $headLength -ge 2 -and $head[0] -eq 0xFF -and $head[1] -eq 0xFE
        $start = [Math]::Max([long]0, $stream.Length - $Bytes)
        if ($unicode) {
            $start = [Math]::Max([long]2, $start)
            if ($start % 2 -ne 0) { $start++ }
        }
        elseif ($headLength -eq 3 -and $head[0] -eq 0xEF -and $head[1] -eq 0xBB -and $head[2] -eq 0xBF) {
            $start = [Math]::Max([long]3, $start)
        }
        $length = [int]($stream.Length - $start)
        if ($length -le 0) { return '' }
        $buffer = [byte[]]::new($length)
        [void]$stream.Seek($start, [System.IO.SeekOrigin]::Begin)
        $got = 0
        while ($got -lt $length) {
            $read = $stream.Read($buffer, $got, $length - $got)
            if ($read -le 0) { break }
            $got += $read
        }
    }
    finally {
        $stream.Dispose()
    }
    if ($unicode) { return [System.Text.Encoding]::Unicode.GetString($buffer, 0, $got) }
    # A tail cut inside a UTF-8 character (at its start, or at its end while the log is being
    # written) must not make the whole tail look like ANSI text: leave the partial character out.
    $first = 0
    if ($start -gt 0) {
        while ($first -lt 3 -and $first -lt $got -and ($buffer[$first] -band 0xC0) -eq 0x80) { $first++ }
    }
    $end = Get-Utf8CompleteEnd -Buffer $buffer -Start $first -Length $got
    try {
        return $StrictUtf8.GetString($buffer, $first, $end - $first)
    }
    catch [System.ArgumentException] {
        return [System.Text.Encoding]::Default.GetString($buffer, 0, $got)
    }
}

function Get-FreeBytes {
    param([string]$Path)
    if (-not $Path) { return $null }
    try {
        $root = [System.IO.Path]::GetPathRoot($Path)
        if ($root -match '^[A-Za-z]:\\?$') {
            $drive = New-Object -TypeName System.IO.DriveInfo -ArgumentList $root
            if ($drive.IsReady) { return [long]$drive.AvailableFreeSpace }
            return $null
        }
        $fso = New-Object -ComObject Scripting.FileSystemObject
        $drive = $fso.GetDrive($fso.GetDriveName($Path))
        if ($drive.IsReady) { return [long]$drive.AvailableSpace }
    }
    catch {
        return $null
    }
    return $null
}

$result = [ordered]@{
    state = 'missing'
    steps = @()
    free_bytes = (Get-FreeBytes -Path $SpacePath)
    now = (Get-IsoNow)
    started_at = $null
    ended_at = $null
    error = $null
    collected = $false
}
if ($JobId -cnotmatch '^[0-9a-f]{16}$') { throw "JobId '$JobId' must be 16 lower-case hex digits" }
$jobDir = Join-Path -Path (Join-Path -Path $JobRoot -ChildPath 'jobs') -ChildPath $JobId
$job = Read-JsonFile (Join-Path -Path $jobDir -ChildPath 'job.json')
if ($null -eq $job) { return $result }

$launch = Read-JsonFile (Join-Path -Path $jobDir -ChildPath 'launch.json')
$state = Read-JsonFile (Join-Path -Path $jobDir -ChildPath 'state.json')
$collectedPath = Join-Path -Path $jobDir -ChildPath 'collected'
$runnerPid = Get-Prop $launch 'pid'
$runnerStart = Get-Prop $launch 'process_start'
if ($null -eq $runnerPid) {
    $runnerPid = Get-Prop $state 'runner_pid'
    $runnerStart = Get-Prop $state 'runner_start'
}
$recorded = [string](Get-Prop $state 'state')
if ($recorded -eq 'exited' -or $recorded -eq 'cancelled') {
    $result.state = $recorded
}
elseif (Test-ProcessAlive -ProcessId $runnerPid -StartedAt $runnerStart) {
    $result.state = 'running'
}
else {
    $result.state = 'lost'
}
$result.started_at = Get-Prop $launch 'started_at'
if (-not $result.started_at) { $result.started_at = Get-Prop $state 'started_at' }
$result.ended_at = Get-Prop $state 'ended_at'
$result.error = Get-Prop $state 'error'

$definitions = @($job.steps)
$records = @(Get-Prop $state 'steps')
$lastEnded = -1
for ($i = 0; $i -lt $definitions.Count; $i++) {
    if ($i -lt $records.Count -and $null -ne $records[$i] -and (Get-Prop $records[$i] 'ended_at')) { $lastEnded = $i }
}
$steps = New-Object -TypeName System.Collections.Generic.List[object]
for ($i = 0; $i -lt $definitions.Count; $i++) {
    $definition = $definitions[$i]
    $record = $null
    if ($i -lt $records.Count) { $record = $records[$i] }
    $stepState = [string](Get-Prop $record 'state')
    if (-not $stepState) { $stepState = 'pending' }
    if ($result.state -eq 'lost' -and $stepState -eq 'running') { $stepState = 'lost' }
    $exitCode = Get-Prop $record 'exit_code'
    $maxSuccess = [int](Get-Prop $definition 'max_success_code')
    $failed = $stepState -eq 'failed_to_start' -or $stepState -eq 'lost' -or ($null -ne $exitCode -and [int]$exitCode -gt $maxSuccess)
    $wanted = $TailSteps -eq 'all' -or $stepState -eq 'running' -or $i -eq $lastEnded -or $failed
    $logFile = [string](Get-Prop $definition 'log')
    $outFile = Join-Path -Path $jobDir -ChildPath ('step' + $i + '.out')
    $errFile = Join-Path -Path $jobDir -ChildPath ('step' + $i + '.err')
    $tailSource = $outFile
    if ($logFile -and [System.IO.File]::Exists($logFile)) { $tailSource = $logFile }
    $logTail = $null
    $errTail = $null
    $logSize = $null
    if ($stepState -ne 'pending' -and $stepState -ne 'skipped') {
        if ([System.IO.File]::Exists($tailSource)) { $logSize = [long](New-Object -TypeName System.IO.FileInfo -ArgumentList $tailSource).Length }
        if ($wanted) {
            $logTail = Read-Tail -Path $tailSource -Bytes $TailBytes
            $errTail = Read-Tail -Path $errFile -Bytes ([Math]::Min($TailBytes, 4096))
        }
    }
    $steps.Add([ordered]@{
            name = [string](Get-Prop $definition 'name')
            state = $stepState
            pid = Get-Prop $record 'pid'
            exit_code = $exitCode
            max_success_code = $maxSuccess
            started_at = Get-Prop $record 'started_at'
            ended_at = Get-Prop $record 'ended_at'
            error = Get-Prop $record 'error'
            log_size = $logSize
            log_tail = $logTail
            stderr_tail = $errTail
        })
}
$result.steps = $steps.ToArray()

$ended = $result.state -ne 'running'
$result.collected = [System.IO.File]::Exists($collectedPath)
if ($Collect -and $ended -and -not $result.collected) {
    [System.IO.File]::WriteAllText($collectedPath, (Get-IsoNow), $Utf8)
    $result.collected = $true
}

return $result
