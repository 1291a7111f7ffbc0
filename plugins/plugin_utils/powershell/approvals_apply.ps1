# airgap.wsus host script
# operation: approvals_apply
# input: Groups?, DeleteGroups?, Undecline?, Approve?, Unapprove?, Decline?
# output: groups_created, groups_deleted, undeclined, approved, unapproved, declined, failed

# Applies an approvals plan the controller computed, in one call, through the UpdateServices
# API (SUSDB must never be written directly). Groups lists every group the other lists name:
# {key, id} for one that exists, {key, name, parent} for one to create under the group whose
# key is parent (parents come first). Then, in this order: DeleteGroups (ids, deepest first),
# create groups, Undecline ({update_id, revision}: Approve(NotApproved, All Computers), which
# makes a declined update "not approved" as the console's Approve dialog does; no Microsoft page
# states it for the API, so it is unconfirmed), Approve ({update_id, revision, group, action,
# deadline}; the license agreement is accepted first when the update has one), Unapprove
# ({update_id, revision, group}: each approval of the update for that group is deleted) and
# Decline ({update_id, revision}). An item the API refuses goes to failed with the API's
# message and the others go on; the controller decides what that means.
[CmdletBinding()]
param(
    [AllowEmptyCollection()][object[]]$Groups = @(),
    [AllowEmptyCollection()][string[]]$DeleteGroups = @(),
    [AllowEmptyCollection()][object[]]$Undecline = @(),
    [AllowEmptyCollection()][object[]]$Approve = @(),
    [AllowEmptyCollection()][object[]]$Unapprove = @(),
    [AllowEmptyCollection()][object[]]$Decline = @()
)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$SetupKey = 'HKLM:\SOFTWARE\Microsoft\Update Services\Server\Setup'
$Invariant = [System.Globalization.CultureInfo]::InvariantCulture
$AllComputers = [guid]'A0A08746-4DBE-4A37-9ADF-9E7652C0B421'

function Import-WsusApi {
    if ('Microsoft.UpdateServices.Administration.AdminProxy' -as [type]) { return }
    $targetDir = $null
    if (Test-Path -LiteralPath $SetupKey) { $targetDir = [string](Get-Item -LiteralPath $SetupKey).GetValue('TargetDir', '') }
    $dll = $null
    if ($targetDir) { $dll = Join-Path -Path $targetDir -ChildPath 'Api\Microsoft.UpdateServices.Administration.dll' }
    if ($dll -and (Test-Path -LiteralPath $dll -PathType Leaf)) {
        Add-Type -LiteralPath $dll
    }
    else {
        Add-Type -AssemblyName 'Microsoft.UpdateServices.Administration'
    }
}

function Get-Prop {
    param([object]$InputObject, [string]$Name)
    if ($null -eq $InputObject) { return $null }
    $property = $InputObject.PSObject.Properties[$Name]
    if ($null -eq $property) { return $null }
    return $property.Value
}

# Functions share state through this table: assigning a variable inside a function would only
# create a local copy.
$State = @{
    failed = New-Object -TypeName System.Collections.Generic.List[object]
    updates = @{}
    groups = @{}
}

function Add-Failure {
    param([string]$Operation, [object]$Item, [string]$Message)
    $State.failed.Add([ordered]@{
            op = $Operation
            update_id = [string](Get-Prop $Item 'update_id')
            group = [string](Get-Prop $Item 'group')
            error = $Message
        })
}

function Get-Update {
    param([object]$Item)
    $key = ([string](Get-Prop $Item 'update_id')).ToUpperInvariant()
    if (-not $State.updates.ContainsKey($key)) {
        $revisionId = New-Object -TypeName Microsoft.UpdateServices.Administration.UpdateRevisionId -ArgumentList ([guid]$key), ([int](Get-Prop $Item 'revision'))
        $State.updates[$key] = $server.GetUpdate($revisionId)
    }
    return $State.updates[$key]
}

function Get-Group {
    param([string]$Key)
    if (-not $State.groups.ContainsKey($Key)) { throw "the plan names group '$Key' but does not describe it in Groups" }
    $group = $State.groups[$Key]
    if ($null -eq $group) { throw "group '$Key' could not be created (see the failure reported for it)" }
    return $group
}

Import-WsusApi
$server = [Microsoft.UpdateServices.Administration.AdminProxy]::GetUpdateServer()
$created = New-Object -TypeName System.Collections.Generic.List[object]
$counts = @{ deleted = 0; undeclined = 0; approved = 0; unapproved = 0; declined = 0 }

foreach ($id in $DeleteGroups) {
    try {
        $server.GetComputerTargetGroup([guid]$id).Delete()
        $counts['deleted'] += 1
    }
    catch {
        Add-Failure -Operation 'delete_group' -Item ([pscustomobject]@{ group = $id }) -Message $_.Exception.Message
    }
}

foreach ($entry in $Groups) {
    $key = [string](Get-Prop $entry 'key')
    $id = Get-Prop $entry 'id'
    try {
        if ($id) {
            $State.groups[$key] = $server.GetComputerTargetGroup([guid][string]$id)
        }
        else {
            $State.groups[$key] = $null
            $parent = Get-Group -Key ([string](Get-Prop $entry 'parent'))
            $group = $server.CreateComputerTargetGroup([string](Get-Prop $entry 'name'), $parent)
            $State.groups[$key] = $group
            $created.Add([ordered]@{ key = $key; id = ([string]$group.Id).ToUpperInvariant() })
        }
    }
    catch {
        $State.groups[$key] = $null
        Add-Failure -Operation 'create_group' -Item ([pscustomobject]@{ group = $key }) -Message $_.Exception.Message
    }
}

foreach ($item in $Undecline) {
    try {
        $update = Get-Update -Item $item
        [void]$update.Approve([Microsoft.UpdateServices.Administration.UpdateApprovalAction]::NotApproved, $server.GetComputerTargetGroup($AllComputers))
        $counts['undeclined'] += 1
    }
    catch {
        Add-Failure -Operation 'undecline' -Item $item -Message $_.Exception.Message
    }
}

foreach ($item in $Approve) {
    try {
        $update = Get-Update -Item $item
        $group = Get-Group -Key ([string](Get-Prop $item 'group'))
        $action = [Microsoft.UpdateServices.Administration.UpdateApprovalAction][string](Get-Prop $item 'action')
        if ($update.RequiresLicenseAgreementAcceptance) { $update.AcceptLicenseAgreement() }
        $deadline = [string](Get-Prop $item 'deadline')
        if ($deadline) {
            $styles = [System.Globalization.DateTimeStyles]::AdjustToUniversal -bor [System.Globalization.DateTimeStyles]::AssumeUniversal
            $when = [datetime]::ParseExact($deadline, "yyyy-MM-dd'T'HH:mm:ss'Z'", $Invariant, $styles)
            [void]$update.Approve($action, $group, $when)
        }
        else {
            [void]$update.Approve($action, $group)
        }
        $counts['approved'] += 1
    }
    catch {
        Add-Failure -Operation 'approve' -Item $item -Message $_.Exception.Message
    }
}

foreach ($item in $Unapprove) {
    try {
        $update = Get-Update -Item $item
        $group = Get-Group -Key ([string](Get-Prop $item 'group'))
        foreach ($approval in @($update.GetUpdateApprovals($group))) { $approval.Delete() }
        $counts['unapproved'] += 1
    }
    catch {
        Add-Failure -Operation 'unapprove' -Item $item -Message $_.Exception.Message
    }
}

foreach ($item in $Decline) {
    try {
        $update = Get-Update -Item $item
        $update.Decline()
        $counts['declined'] += 1
    }
    catch {
        Add-Failure -Operation 'decline' -Item $item -Message $_.Exception.Message
    }
}

return [ordered]@{
    groups_created = $created.ToArray()
    groups_deleted = $counts.deleted
    undeclined = $counts.undeclined
    approved = $counts.approved
    unapproved = $counts.unapproved
    declined = $counts.declined
    failed = $State.failed.ToArray()
}
