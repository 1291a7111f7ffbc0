# airgap.wsus host script
# operation: job_cancel
# input: JobRoot, JobId
# output: state, killed

# Stops a running job's whole process tree (the runner, the step it runs, and whatever that
# step started), deepest processes first, then records the job as cancelled. Processes are
# matched by parent id *and* creation time, because Windows reuses process ids. A job that
# already ended is left as it is. Cancelling twice is harmless.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$JobRoot,
    [Parameter(Mandatory = $true)][string]$JobId
)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$Invariant = [System.Globalization.CultureInfo]::InvariantCulture
$Utf8 = New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false

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

function Write-JsonFile {
    param([string]$Path, [object]$Value)
    $temp = $Path + '.' + [guid]::NewGuid().ToString('N') + '.tmp'
    [System.IO.File]::WriteAllText($temp, (ConvertTo-Json -InputObject $Value -Depth 6), $Utf8)
    for ($attempt = 1; ; $attempt++) {
        try {
            if ([System.IO.File]::Exists($Path)) { [System.IO.File]::Replace($temp, $Path, $null) } else { [System.IO.File]::Move($temp, $Path) }
            return
        }
        catch [System.IO.IOException] {
            if ($attempt -ge 25) { throw }
            Start-Sleep -Milliseconds 200
        }
    }
}

function Test-SameStart {
    # CIM leaves CreationDate empty for processes it may not inspect: never a match then.
    param([object]$Recorded, [object]$Actual)
    if (-not $Recorded -or $null -eq $Actual) { return $false }
    $delta = ([datetime]::Parse([string]$Recorded, $Invariant).ToUniversalTime() - ([datetime]$Actual).ToUniversalTime()).Duration()
    return $delta.TotalSeconds -lt 2
}

if ($JobId -cnotmatch '^[0-9a-f]{16}$') { throw "JobId '$JobId' must be 16 lower-case hex digits" }
$jobDir = Join-Path -Path (Join-Path -Path $JobRoot -ChildPath 'jobs') -ChildPath $JobId
$statePath = Join-Path -Path $jobDir -ChildPath 'state.json'
if (-not [System.IO.File]::Exists((Join-Path -Path $jobDir -ChildPath 'job.json'))) {
    return [ordered]@{ state = 'missing'; killed = @() }
}
$launch = Read-JsonFile (Join-Path -Path $jobDir -ChildPath 'launch.json')
$state = Read-JsonFile $statePath
$recorded = [string](Get-Prop $state 'state')
if ($recorded -eq 'exited' -or $recorded -eq 'cancelled') {
    return [ordered]@{ state = $recorded; killed = @() }
}

# Roots of the tree: the runner, and the running step's process (in case the runner is gone
# but its child lives on).
$roots = New-Object -TypeName System.Collections.Generic.List[object]
$runnerPid = Get-Prop $launch 'pid'
$runnerStart = Get-Prop $launch 'process_start'
if ($null -eq $runnerPid) {
    $runnerPid = Get-Prop $state 'runner_pid'
    $runnerStart = Get-Prop $state 'runner_start'
}
if ($null -ne $runnerPid) { $roots.Add(@{ id = [int]$runnerPid; start = $runnerStart }) }
foreach ($step in @(Get-Prop $state 'steps')) {
    if ([string](Get-Prop $step 'state') -eq 'running' -and $null -ne (Get-Prop $step 'pid')) {
        $roots.Add(@{ id = [int](Get-Prop $step 'pid'); start = (Get-Prop $step 'process_start') })
    }
}

$processes = @(Get-CimInstance -ClassName Win32_Process -Property @('ProcessId', 'ParentProcessId', 'CreationDate'))
$byId = @{}
$children = @{}
foreach ($process in $processes) {
    $byId[[int]$process.ProcessId] = $process
    $parent = [int]$process.ParentProcessId
    if (-not $children.ContainsKey($parent)) { $children[$parent] = New-Object -TypeName System.Collections.Generic.List[object] }
    $children[$parent].Add($process)
}

# Breadth-first from each verified root; a child counts only if it was created after its parent.
$order = New-Object -TypeName System.Collections.Generic.List[int]
$queue = New-Object -TypeName System.Collections.Generic.Queue[object]
foreach ($root in $roots) {
    if ($byId.ContainsKey($root.id) -and (Test-SameStart -Recorded $root.start -Actual $byId[$root.id].CreationDate)) {
        if (-not $order.Contains($root.id)) { $order.Add($root.id); $queue.Enqueue($byId[$root.id]) }
    }
}
while ($queue.Count -gt 0) {
    $current = $queue.Dequeue()
    $key = [int]$current.ProcessId
    if (-not $children.ContainsKey($key)) { continue }
    foreach ($child in $children[$key]) {
        $childId = [int]$child.ProcessId
        $bornAfter = $null -ne $child.CreationDate -and $null -ne $current.CreationDate -and $child.CreationDate -ge $current.CreationDate
        if ($childId -ne $key -and $bornAfter -and -not $order.Contains($childId)) {
            $order.Add($childId)
            $queue.Enqueue($child)
        }
    }
}

$killed = New-Object -TypeName System.Collections.Generic.List[int]
for ($i = $order.Count - 1; $i -ge 0; $i--) {
    try {
        Stop-Process -Id $order[$i] -Force -ErrorAction Stop
        $killed.Add($order[$i])
    }
    catch {
        # Already gone between listing and killing: nothing left to stop.
        continue
    }
}

# The runner may have recorded its own end between the first read and the kill: keep that.
$state = Read-JsonFile $statePath
$recorded = [string](Get-Prop $state 'state')
if ($recorded -eq 'exited' -or $recorded -eq 'cancelled') {
    return [ordered]@{ state = $recorded; killed = $killed.ToArray() }
}

# Record the end. The runner, if it ever ran, can no longer do it.
$now = Get-IsoNow
$stepsOut = New-Object -TypeName System.Collections.Generic.List[object]
$job = Read-JsonFile (Join-Path -Path $jobDir -ChildPath 'job.json')
$definitions = @($job.steps)
$records = @(Get-Prop $state 'steps')
for ($i = 0; $i -lt $definitions.Count; $i++) {
    $record = $null
    if ($i -lt $records.Count) { $record = $records[$i] }
    $stepState = [string](Get-Prop $record 'state')
    $endedAt = Get-Prop $record 'ended_at'
    if ($stepState -eq 'running') { $stepState = 'cancelled'; $endedAt = $now }
    elseif (-not $stepState -or $stepState -eq 'pending') { $stepState = 'skipped' }
    $stepsOut.Add([ordered]@{
            name = [string](Get-Prop $definitions[$i] 'name')
            state = $stepState
            pid = Get-Prop $record 'pid'
            process_start = Get-Prop $record 'process_start'
            exit_code = Get-Prop $record 'exit_code'
            started_at = Get-Prop $record 'started_at'
            ended_at = $endedAt
            error = Get-Prop $record 'error'
        })
}
$startedAt = Get-Prop $state 'started_at'
if (-not $startedAt) { $startedAt = Get-Prop $launch 'started_at' }
Write-JsonFile -Path $statePath -Value ([ordered]@{
        state = 'cancelled'
        runner_pid = $runnerPid
        runner_start = $runnerStart
        started_at = $startedAt
        ended_at = $now
        current_step = -1
        error = $null
        steps = $stepsOut.ToArray()
    })

return [ordered]@{
    state = 'cancelled'
    killed = $killed.ToArray()
}
