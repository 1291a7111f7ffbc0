"""Fixed identifiers and names of the emulated WSUS server.

GUIDs of the built-in computer target groups and of the update classifications are the ones
WSUS uses. Product GUIDs are illustrative: the lab only needs them to be stable.
"""
from __future__ import annotations

ALL_COMPUTERS = 'A0A08746-4DBE-4A37-9ADF-9E7652C0B421'
UNASSIGNED_COMPUTERS = 'B73CA6ED-5727-47F3-84DE-015E03F6A88A'

# Registry key WSUS setup writes (REFERENCE.md section 5).
SETUP_KEY = r'HKLM\SOFTWARE\Microsoft\Update Services\Server\Setup'
WID_SERVER_NAME = 'MICROSOFT##WID'
WID_PIPE = r'np:\\.\pipe\MICROSOFT##WID\tsql\query'
DATABASE_NAME = 'SUSDB'
SERVICE_NAME = 'WsusService'
SERVICE_DISPLAY_NAME = 'WSUS Service'
DEFAULT_TARGET_DIR = r'C:\Program Files\Update Services'
DEFAULT_CONTENT_DIR = r'C:\WSUS'
CONTENT_FOLDER = 'WsusContent'

# WSUS server versions per Windows Server release (the UpdateServices API reports them).
VERSIONS = {
    '2012r2': '6.3.9600.18838',
    '2016': '10.0.14393.7428',
    '2019': '10.0.17763.6532',
    '2022': '10.0.20348.2849',
    '2025': '10.0.26100.2454',
}
DEFAULT_OS = '2019'

# Update classifications: (id, title). Real WSUS category GUIDs.
CLASSIFICATIONS = (
    ('0FA1201D-4330-4FA8-8AE9-B877473B6441', 'Security Updates'),
    ('E6CF1350-C01B-414D-A61F-263D14D133B4', 'Critical Updates'),
    ('CD5FFD1E-E932-4E3A-BF74-18BF0B1BBD83', 'Updates'),
    ('E0789628-CE08-4437-BE74-2495B842F43B', 'Definition Updates'),
    ('28BC880E-0592-4CBF-8F95-C79B17911D5F', 'Update Rollups'),
    ('68C5B0A3-D1A6-4553-AE49-01D3A7827828', 'Service Packs'),
    ('B54E7D24-7ADD-428F-8B75-90A396FA584F', 'Feature Packs'),
    ('B4832BD8-E735-4761-8DAF-37F882276DAB', 'Tools'),
)
CLASSIFICATION_TITLES = dict(CLASSIFICATIONS)

# Products: (id, title, extension of the main file). Express files exist for Windows only.
PRODUCTS = (
    ('F702A48C-919B-45D6-9AEF-CA4248D50397', 'Windows Server 2019', '.cab'),
    ('569E8E8F-C6CD-42C8-92A3-EFBB20A0F6F5', 'Windows Server 2016', '.msu'),
    ('A3C2375D-0C8A-42F9-BCE0-28333E198407', 'Windows 10', '.cab'),
    ('25AED893-7C2D-4A31-AE22-28FF8AC150ED', 'Office 2016', '.cab'),
    ('8C3FCC84-7410-4A95-8B89-A166A0190486', 'Microsoft Defender Antivirus', '.exe'),
)
PRODUCT_TITLES = {pid: title for pid, title, _ext in PRODUCTS}
EXPRESS_PRODUCTS = frozenset(pid for pid, title, _ext in PRODUCTS if title.startswith('Windows'))

# The update languages WSUS offers (lowercase RFC 1766 codes, as the API wants them).
WSUS_LANGUAGES = (
    ('ar', 'Arabic'), ('bg', 'Bulgarian'), ('cs', 'Czech'), ('da', 'Danish'), ('de', 'German'),
    ('el', 'Greek'), ('en', 'English'), ('es', 'Spanish'), ('et', 'Estonian'), ('fi', 'Finnish'),
    ('fr', 'French'), ('he', 'Hebrew'), ('hi', 'Hindi'), ('hr', 'Croatian'), ('hu', 'Hungarian'),
    ('it', 'Italian'), ('ja', 'Japanese'), ('ko', 'Korean'), ('lt', 'Lithuanian'), ('lv', 'Latvian'),
    ('nl', 'Dutch'), ('no', 'Norwegian'), ('pl', 'Polish'), ('pt', 'Portuguese'),
    ('pt-br', 'Portuguese (Brazil)'), ('ro', 'Romanian'), ('ru', 'Russian'), ('sk', 'Slovak'),
    ('sl', 'Slovenian'), ('sr', 'Serbian'), ('sv', 'Swedish'), ('th', 'Thai'), ('tr', 'Turkish'),
    ('uk', 'Ukrainian'), ('zh-cn', 'Chinese (Simplified)'), ('zh-hk', 'Chinese (Hong Kong S.A.R.)'),
    ('zh-tw', 'Chinese (Traditional)'),
)
LANGUAGE_CODES = frozenset(code for code, _name in WSUS_LANGUAGES)

# tbRevision.State: 2 marks a declined revision, as public SUSDB reports read it.
REVISION_STATE_NORMAL = 1
REVISION_STATE_DECLINED = 2

# tbDeployment.ActionID (MS-WSUSAR DeploymentAction) and the view's spelling of it.
ACTION_INSTALL = 0
ACTION_UNINSTALL = 1
ACTIONS = {ACTION_INSTALL: 'Install', ACTION_UNINSTALL: 'Uninstall'}

# tbDeployment.DeploymentStatus (MS-WSUSAR): 1 active, 0 pending (files still downloading).
DEPLOYMENT_PENDING = 0
DEPLOYMENT_ACTIVE = 1

# tbFileOnServer. ActualState 1 means "file present" (public SUSDB scripts count it so); the
# other values are the lab's convention, since no primary source documents them.
DESIRED_NOT_NEEDED = 0
DESIRED_DOWNLOAD = 1
ACTUAL_NOT_PRESENT = 0
ACTUAL_PRESENT = 1
ACTUAL_FAILED = 2

# tbFileForRevision.PatchingType: the lab marks express installation files (.psf) with 1.
PATCHING_NONE = 0
PATCHING_EXPRESS = 1

DEFAULT_ADMIN_NAME = 'WSUS Administrator'
