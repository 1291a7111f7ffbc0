# airgap.wsus host script
# operation: approvals_read
# input: Updates?
# output: groups, approvals, updates

# Reads computer target groups, approvals and declines through the UpdateServices API, for a
# server whose SUSDB cannot be queried. Rows come in the column order of the SUSDB queries
# (target_groups: id, parent id, name; update_approvals: update id, revision, group id,
# action, deadline; approval_updates: update id, revision, declined, publication state, KB,
# title), so the controller reads both sources alike. Updates 'referenced' lists the updates
# that are declined or approved (what the export side needs), 'all' every update (the import
# side's catalog). Like the SUSDB queries, only approvals of an update's latest revision, and
# only Install and Uninstall approvals, are read. Changes nothing.
[CmdletBinding()]
param(
    [ValidateSet('referenced', 'all')][string]$Updates = 'referenced'
)
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$SetupKey = 'HKLM:\SOFTWARE\Microsoft\Update Services\Server\Setup'
$Invariant = [System.Globalization.CultureInfo]::InvariantCulture
$AllComputers = 'A0A08746-4DBE-4A37-9ADF-9E7652C0B421'

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

function ConvertTo-Deadline {
    # The API reports DateTime.MaxValue for "no deadline"; WSUS documents deadlines as UTC.
    param([object]$Value)
    if ($null -eq $Value) { return $null }
    $date = [datetime]$Value
    if ($date.Year -ge 9999 -or $date.Year -lt 1900) { return $null }
    if ($date.Kind -eq [System.DateTimeKind]::Unspecified) { $date = [datetime]::SpecifyKind($date, [System.DateTimeKind]::Utc) }
    return $date.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ss.fffZ', $Invariant)
}

function Get-GuidText {
    param([object]$Value)
    return ([string]$Value).ToUpperInvariant()
}

Import-WsusApi
$server = [Microsoft.UpdateServices.Administration.AdminProxy]::GetUpdateServer()

$groupRows = New-Object -TypeName System.Collections.Generic.List[object]
foreach ($group in $server.GetComputerTargetGroups()) {
    $id = Get-GuidText $group.Id
    $parent = $null
    if ($id -ne $AllComputers) {
        $parentGroup = $group.GetParentTargetGroup()
        if ($null -ne $parentGroup) { $parent = Get-GuidText $parentGroup.Id }
    }
    $groupRows.Add([object[]]@($id, $parent, [string]$group.Name))
}

$scope = New-Object -TypeName Microsoft.UpdateServices.Administration.UpdateScope
if ($Updates -eq 'referenced') {
    $scope.ApprovedStates = [Microsoft.UpdateServices.Administration.ApprovedStates]'Declined, LatestRevisionApproved'
}
$updateRows = New-Object -TypeName System.Collections.Generic.List[object]
$approvalRows = New-Object -TypeName System.Collections.Generic.List[object]
foreach ($update in $server.GetUpdates($scope)) {
    $updateId = Get-GuidText $update.Id.UpdateId
    $revision = [int]$update.Id.RevisionNumber
    $kb = $null
    if ($update.KnowledgebaseArticles.Count -gt 0) { $kb = [string]$update.KnowledgebaseArticles[0] }
    $updateRows.Add([object[]]@($updateId, $revision, [bool]$update.IsDeclined, [string]$update.PublicationState, $kb, [string]$update.Title))
    if (-not $update.IsApproved) { continue }
    foreach ($approval in $update.GetUpdateApprovals()) {
        $action = [string]$approval.Action
        if ($action -ne 'Install' -and $action -ne 'Uninstall') { continue }
        $approvalRows.Add([object[]]@($updateId, $revision, (Get-GuidText $approval.ComputerTargetGroupId), $action, (ConvertTo-Deadline $approval.Deadline)))
    }
}

return [ordered]@{
    groups = $groupRows.ToArray()
    approvals = $approvalRows.ToArray()
    updates = $updateRows.ToArray()
}
