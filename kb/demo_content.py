"""The demo knowledge base: help articles about "Lumen", a fictional team file-sync and
backup app. Plain data, turned into pages by ``kb.demo_data``.

Body items are short tuples: ("p", html), ("h", text), ("info" | "tip" | "warning",
html), ("code", language, text), ("steps", [(title, html), ...]), ("table", rows,
caption), ("image", key, caption), ("doc", key, link text), ("embed", url).

Over 400 lines on purpose: plain data (the demo articles' text), no logic to split.
"""

CATEGORIES = [
    (
        "getting-started",
        "Getting started",
        "Install Lumen, create your team and sync your first folder.",
    ),
    (
        "sync-and-sharing",
        "Sync and sharing",
        "How files move between devices, and how to share them safely.",
    ),
    (
        "backup-and-restore",
        "Backup and restore",
        "Protect whole computers and bring back any earlier version.",
    ),
    (
        "account-and-billing",
        "Account and billing",
        "Plans, invoices, payment methods and your Lumen account.",
    ),
    (
        "security-and-privacy",
        "Security and privacy",
        "Two-step sign-in, encryption and who can see what.",
    ),
    (
        "troubleshooting",
        "Troubleshooting",
        "When sync stalls, a device goes quiet or something looks wrong.",
    ),
    (
        "team-administration",
        "Team administration",
        "Members, roles, storage quotas and policies for team owners.",
    ),
]

TOUR_VIDEO = "https://videos.lumen.example/tour"

ARTICLES = [
    # --- Getting started ---------------------------------------------------------------
    {
        "category": "getting-started",
        "slug": "what-is-lumen",
        "title": "What is Lumen?",
        "summary": "Lumen keeps your team's files identical on every device and keeps a backup of each version for as long as your plan allows.",
        "tags": ["basics"],
        "body": [
            (
                "p",
                "Lumen is a file-sync and backup service for small and medium-sized teams. You choose folders on your computer; Lumen keeps a copy in the Lumen cloud and on every other device signed in to the same account, and it remembers earlier versions of each file.",
            ),
            ("h", "Sync and backup are different"),
            (
                "p",
                "<b>Sync</b> makes the same folder look the same everywhere: a change on your laptop appears on your desktop a few seconds later. <b>Backup</b> keeps history: if a file is overwritten or deleted, you can bring back the version from last Tuesday. Lumen does both, and you decide per folder.",
            ),
            ("embed", TOUR_VIDEO),
            (
                "info",
                "<p>New to Lumen? Start with <i>Install Lumen on your computer</i>, then <i>Sync your first folder</i>.</p>",
            ),
        ],
    },
    {
        "category": "getting-started",
        "slug": "install-lumen",
        "title": "Install Lumen on your computer",
        "summary": "Download the Lumen desktop app for Windows, macOS or Linux, sign in, and choose where your Lumen folder lives.",
        "tags": ["install", "desktop"],
        "body": [
            (
                "p",
                "The desktop app runs quietly in the background and shows its status in the system tray (Windows and Linux) or the menu bar (macOS).",
            ),
            ("h", "System requirements"),
            (
                "table",
                [
                    ["System", "Minimum version", "Notes"],
                    [
                        "Windows",
                        "Windows 10 (64-bit)",
                        "ARM64 supported from Lumen 4.2",
                    ],
                    ["macOS", "macOS 12 Monterey", "Apple silicon and Intel"],
                    [
                        "Linux",
                        "Ubuntu 22.04, Debian 12, Fedora 39",
                        "Needs inotify; see the command-line guide",
                    ],
                ],
                "Supported systems",
            ),
            (
                "steps",
                [
                    (
                        "Download the installer",
                        "<p>Go to <code>lumen.example/download</code>; the page offers the right installer for your system.</p>",
                    ),
                    (
                        "Run it",
                        "<p>On macOS drag Lumen to Applications; on Windows accept the prompt to allow changes.</p>",
                    ),
                    (
                        "Sign in",
                        "<p>Use your work email. If your team uses single sign-on, choose <b>Continue with SSO</b>.</p>",
                    ),
                    (
                        "Pick a location",
                        "<p>Keep the default <code>~/Lumen</code> unless your home drive is small.</p>",
                    ),
                ],
            ),
            (
                "image",
                "setup",
                "The last step of the installer: choosing where the Lumen folder lives.",
            ),
        ],
    },
    {
        "category": "getting-started",
        "slug": "sync-your-first-folder",
        "title": "Sync your first folder",
        "summary": "Add an existing folder to Lumen so that it stays the same on all your devices.",
        "tags": ["sync", "basics"],
        "related": ["install-lumen"],
        "body": [
            (
                "p",
                "Anything inside your Lumen folder syncs automatically. To sync a folder that lives elsewhere, such as <code>Documents</code>, add it from the app instead of moving it.",
            ),
            (
                "steps",
                [
                    (
                        "Open Lumen preferences",
                        "<p>Click the Lumen icon, then the gear, then <b>Preferences</b>.</p>",
                    ),
                    (
                        "Choose Folders",
                        "<p>Select <b>Add folder</b> and pick the folder.</p>",
                    ),
                    (
                        "Wait for the first upload",
                        "<p>The icon shows a turning arrow until the folder is uploaded. Large folders can take hours on a slow connection; you can keep working meanwhile.</p>",
                    ),
                ],
            ),
            (
                "tip",
                "<p>Start with a small folder to see how Lumen behaves before adding years of photos.</p>",
            ),
        ],
    },
    {
        "category": "getting-started",
        "slug": "mobile-apps",
        "title": "Use Lumen on your phone",
        "summary": "The Lumen apps for iOS and Android show your files, upload photos and keep chosen files available offline.",
        "tags": ["mobile"],
        "body": [
            (
                "p",
                "Phones do not sync whole folders, because they rarely have the room. Instead, the Lumen app lists everything in your account and downloads a file when you open it.",
            ),
            ("h", "Keep files available offline"),
            (
                "p",
                "Long-press a file or folder and choose <b>Available offline</b>. Lumen keeps that copy up to date while the phone is on Wi-Fi.",
            ),
            ("h", "Camera uploads"),
            (
                "p",
                "Turn on <b>Camera uploads</b> to copy new photos and videos into <code>Lumen/Camera</code>. Uploads wait for Wi-Fi unless you allow mobile data.",
            ),
        ],
    },
    {
        "category": "getting-started",
        "slug": "lumen-on-the-command-line",
        "title": "Lumen on the command line",
        "summary": "The lumen command controls the desktop app from a terminal: status, pause, resume and exclusions.",
        "tags": ["linux", "cli"],
        "body": [
            (
                "p",
                "Every desktop installation includes the <code>lumen</code> command. It is handy on Linux servers without a desktop, and for scripts.",
            ),
            (
                "code",
                "bash",
                "lumen status            # what is syncing right now\nlumen pause 30m         # pause for thirty minutes\nlumen resume\nlumen exclude add '*.tmp'\nlumen exclude list",
            ),
            (
                "p",
                "Run <code>lumen help</code> for every subcommand. The command talks to the running app; start it first with <code>lumen start</code> on headless machines.",
            ),
        ],
    },
    {
        "category": "getting-started",
        "slug": "preview-features",
        "title": "Try preview features on the beta channel",
        "summary": "Signed-in customers can switch a device to the beta channel to get new features a few weeks early.",
        "tags": ["beta"],
        "audience": "customers",
        "body": [
            (
                "p",
                "Beta builds are tested, but less widely than releases. Use them on one device first, not on every computer in the team.",
            ),
            (
                "steps",
                [
                    (
                        "Open Preferences",
                        "<p>Click the Lumen icon, then <b>Preferences</b> › <b>Updates</b>.</p>",
                    ),
                    (
                        "Choose the channel",
                        "<p>Select <b>Beta</b>. Lumen downloads the newest beta within an hour.</p>",
                    ),
                    (
                        "Tell us what you think",
                        "<p>Use <b>Help</b> › <b>Send feedback</b>; beta reports go straight to the product team.</p>",
                    ),
                ],
            ),
            (
                "warning",
                "<p>Going back from beta to release waits for the next release: Lumen never installs an older version over a newer one.</p>",
            ),
        ],
    },
    {
        "category": "getting-started",
        "slug": "whats-new-in-lumen-5",
        "title": "What's new in Lumen 5.0",
        "summary": "Lumen 5.0 brings faster first syncs, shared-folder expiry dates and a new activity view.",
        "tags": ["release-notes"],
        "scheduled_in_days": 10,
        "body": [
            (
                "p",
                "Lumen 5.0 reaches every device over the two weeks after release. Nothing changes for your files: the update installs in the background and restarts the app when you are idle.",
            ),
            ("h", "Highlights"),
            (
                "p",
                "First syncs of large folders are up to three times faster, because Lumen now uploads many small files in one batch. Shared folders can get an expiry date, after which guests lose access automatically. The new <b>Activity</b> view lists who changed what, per folder.",
            ),
        ],
    },
    # --- Sync and sharing ------------------------------------------------------------------
    {
        "category": "sync-and-sharing",
        "slug": "how-sync-works",
        "title": "How Lumen sync works",
        "summary": "Lumen watches your folders, uploads only the parts of a file that changed, and sends them to your other devices.",
        "tags": ["sync", "basics"],
        "body": [
            (
                "p",
                "When you save a file, the operating system tells Lumen. Lumen splits the file into blocks, uploads only the blocks that differ from the previous version, and notifies your other devices, which download those blocks and rebuild the file.",
            ),
            ("h", "Why small edits sync fast"),
            (
                "p",
                "Changing one slide of a 200 MB presentation uploads a few megabytes, not the whole file. This is also why the first upload of a folder takes much longer than later changes.",
            ),
            (
                "image",
                "sync-diagram",
                "A change travels from the laptop to the Lumen cloud and on to the desktop.",
            ),
        ],
    },
    {
        "category": "sync-and-sharing",
        "slug": "selective-sync",
        "title": "Choose which folders sync to a computer",
        "summary": "Selective sync keeps some folders in the cloud only, to save disk space on smaller laptops.",
        "tags": ["sync", "disk-space"],
        "body": [
            (
                "p",
                "A folder you untick in selective sync disappears from that computer but stays in the cloud and on your other devices. Nothing is deleted.",
            ),
            (
                "steps",
                [
                    ("Open Preferences › Folders", ""),
                    (
                        "Select Choose folders",
                        "<p>Untick the folders you do not need on this computer.</p>",
                    ),
                    (
                        "Confirm",
                        "<p>Lumen removes the local copies after checking that the cloud has every file.</p>",
                    ),
                ],
            ),
            (
                "tip",
                "<p>Files you only need occasionally can stay online-only: right-click them and choose <b>Free up space</b>.</p>",
            ),
        ],
    },
    {
        "category": "sync-and-sharing",
        "slug": "share-a-folder",
        "title": "Share a folder with your team",
        "summary": "Shared folders appear in every member's Lumen folder and stay in sync for everyone.",
        "tags": ["sharing"],
        "body": [
            (
                "p",
                "Right-click a folder inside Lumen and choose <b>Share</b>. Type the names or email addresses of colleagues, choose <b>Can edit</b> or <b>Can view</b>, and send.",
            ),
            ("h", "What people see"),
            (
                "p",
                "The folder appears in their Lumen folder within a minute. Changes by anyone with edit rights reach everyone; view-only members get a read-only copy.",
            ),
            (
                "info",
                "<p>Storage used by a shared folder counts once, against the team, not against every member.</p>",
            ),
        ],
    },
    {
        "category": "sync-and-sharing",
        "slug": "share-links",
        "title": "Send a file with a share link",
        "summary": "A share link lets anyone, even without a Lumen account, download a file or folder; you can add a password and an expiry date.",
        "tags": ["sharing", "links"],
        "related": ["share-a-folder"],
        "body": [
            (
                "p",
                "Right-click the file and choose <b>Copy share link</b>. The link is on your clipboard; paste it into an email or chat.",
            ),
            ("h", "Protect a link"),
            (
                "p",
                "Open <b>Link settings</b> to require a password, set an expiry date or turn off downloads so that the file can only be previewed.",
            ),
            (
                "warning",
                "<p>Anyone who has the link can open it until it expires. For confidential files, share the folder with named people instead.</p>",
            ),
        ],
    },
    {
        "category": "sync-and-sharing",
        "slug": "conflicted-copies",
        "title": 'Why do I see a "conflicted copy"?',
        "summary": "When two people change the same file before Lumen can sync it, Lumen keeps both versions rather than choose for you.",
        "tags": ["sync", "conflicts"],
        "body": [
            (
                "p",
                "If you and a colleague edit the same spreadsheet while one of you is offline, Lumen cannot know which change should win. It keeps the first version that reached the cloud under the original name and saves the other as <code>Budget (Ana's conflicted copy 2024-05-02).xlsx</code>.",
            ),
            ("h", "Resolving it"),
            (
                "steps",
                [
                    (
                        "Open both files",
                        "<p>Compare them and copy the changes you need into the original.</p>",
                    ),
                    (
                        "Delete the conflicted copy",
                        "<p>Its history stays in version history if you change your mind.</p>",
                    ),
                ],
            ),
            (
                "tip",
                "<p>Office files opened from Lumen show who else is editing them, which avoids most conflicts.</p>",
            ),
        ],
    },
    {
        "category": "sync-and-sharing",
        "slug": "ignore-files",
        "title": "Keep some files out of sync",
        "summary": "Exclusion rules stop temporary files, build output or virtual machines from syncing.",
        "tags": ["sync", "cli"],
        "body": [
            (
                "p",
                "Lumen already skips system files such as <code>.DS_Store</code> and <code>Thumbs.db</code>. Add your own rules in Preferences › Folders › Exclusions, or put a <code>.lumenignore</code> file in any folder.",
            ),
            (
                "code",
                "text",
                "# .lumenignore: one pattern per line\nnode_modules/\n*.log\n*.vmdk\nbuild/",
            ),
            (
                "p",
                "Rules apply to the folder that holds the file and everything under it. Files that already synced stay in the cloud until you delete them there.",
            ),
        ],
    },
    {
        "category": "sync-and-sharing",
        "slug": "bandwidth-limits",
        "title": "Limit how much bandwidth Lumen uses",
        "summary": "Set upload and download limits so that Lumen does not slow down video calls on a shared connection.",
        "tags": ["network", "performance"],
        "body": [
            (
                "p",
                "By default Lumen uses spare bandwidth and backs off when other programs need it. On a busy office line you may prefer fixed limits.",
            ),
            (
                "table",
                [
                    ["Setting", "Good starting value", "Why"],
                    [
                        "Upload limit",
                        "50% of your upload speed",
                        "Uploads are what slow down calls",
                    ],
                    [
                        "Download limit",
                        "No limit",
                        "Downloads rarely compete with calls",
                    ],
                    [
                        "Pause on metered networks",
                        "On",
                        "Saves mobile data on hotspots",
                    ],
                ],
                "Suggested network settings",
            ),
            (
                "p",
                "You find these under Preferences › Network. The command <code>lumen pause 1h</code> is a quick alternative before a big presentation.",
            ),
        ],
    },
    # --- Backup and restore -------------------------------------------------------------------
    {
        "category": "backup-and-restore",
        "slug": "computer-backup",
        "title": "Back up your whole computer",
        "summary": "Computer backup protects Desktop, Documents, Pictures and other folders you choose, with history, without syncing them elsewhere.",
        "tags": ["backup"],
        "body": [
            (
                "p",
                "Backed-up folders are copied to the Lumen cloud and kept with their history, but they do not appear on your other devices. That makes backup the right choice for a whole home folder.",
            ),
            (
                "steps",
                [
                    ("Open Preferences › Backup", ""),
                    (
                        "Choose folders",
                        "<p>Desktop, Documents and Pictures are preselected; add any other folder.</p>",
                    ),
                    (
                        "Start backup",
                        "<p>The first backup runs in the background; later backups copy only what changed.</p>",
                    ),
                ],
            ),
            (
                "info",
                "<p>External drives can be backed up too; Lumen resumes when the drive is plugged in again.</p>",
            ),
        ],
    },
    {
        "category": "backup-and-restore",
        "slug": "restore-earlier-version",
        "title": "Restore an earlier version of a file",
        "summary": "Version history lets you bring back any saved version of a file from the last 30, 180 or 365 days, depending on your plan.",
        "tags": ["backup", "versions"],
        "body": [
            (
                "p",
                "Every time a file changes, Lumen keeps the previous version. Right-click the file and choose <b>Version history</b> to see them, with the date and the person who saved each one.",
            ),
            (
                "steps",
                [
                    (
                        "Open version history",
                        "<p>Right-click the file › <b>Version history</b>, or open it on the web.</p>",
                    ),
                    (
                        "Preview",
                        "<p>Click a version to preview it without changing anything.</p>",
                    ),
                    (
                        "Restore",
                        "<p>Choose <b>Restore</b>. The current version becomes part of history, so restoring is never destructive.</p>",
                    ),
                ],
            ),
            (
                "table",
                [
                    ["Plan", "Version history"],
                    ["Starter", "30 days"],
                    ["Business", "180 days"],
                    ["Enterprise", "365 days"],
                ],
                "How long versions are kept",
            ),
        ],
    },
    {
        "category": "backup-and-restore",
        "slug": "recover-deleted-files",
        "title": "Recover deleted files",
        "summary": "Deleted files stay in the Lumen trash for the length of your version history and can be restored in bulk.",
        "tags": ["backup", "trash"],
        "related": ["restore-earlier-version"],
        "body": [
            (
                "p",
                "Open the Lumen website and choose <b>Deleted files</b>. You can filter by folder, by date and by the person who deleted them, which helps after an accidental bulk delete.",
            ),
            (
                "tip",
                "<p>Select a whole folder in <b>Deleted files</b> and restore it in one go; Lumen rebuilds its structure.</p>",
            ),
            (
                "warning",
                "<p>Files deleted longer ago than your plan's version history are gone for good. Team owners can extend history on the Enterprise plan.</p>",
            ),
        ],
    },
    {
        "category": "backup-and-restore",
        "slug": "ransomware-rewind",
        "title": "Rewind a folder after ransomware",
        "summary": "Rewind puts a whole folder back to how it was at a moment you choose, undoing mass encryption or deletion.",
        "tags": ["backup", "security", "ransomware"],
        "body": [
            (
                "p",
                "If malware encrypts your files, Lumen faithfully syncs the encrypted versions, but it also keeps the originals. Rewind restores a folder to a point in time in one step.",
            ),
            (
                "steps",
                [
                    (
                        "Disconnect the infected computer",
                        "<p>Unplug it from the network or turn off Wi-Fi so that it cannot change more files.</p>",
                    ),
                    (
                        "Rewind from another device",
                        "<p>On the Lumen website, open the folder, choose <b>Rewind</b> and pick a time before the attack.</p>",
                    ),
                    (
                        "Clean the computer before signing in again",
                        "<p>Ask your IT team to clean or reinstall it first.</p>",
                    ),
                ],
            ),
            (
                "warning",
                "<p>Do not sign the infected computer back in to Lumen until it has been cleaned.</p>",
            ),
        ],
    },
    {
        "category": "backup-and-restore",
        "slug": "restore-to-new-computer",
        "title": "Move to a new computer",
        "summary": "Install Lumen on the new computer, sign in, and your synced and backed-up folders come back where they were.",
        "tags": ["backup", "install"],
        "related": ["install-lumen"],
        "body": [
            (
                "p",
                "Sign in to Lumen on the new computer with the same account. Synced folders download automatically. For backed-up folders, choose <b>Restore from backup</b> and pick the old computer.",
            ),
            (
                "p",
                "Keep the old computer until the restore finishes, then remove it from <b>Account</b> › <b>Devices</b> so it no longer counts against your device limit.",
            ),
            ("doc", "checklist", "New computer checklist (text file)"),
        ],
    },
    {
        "category": "backup-and-restore",
        "slug": "backup-schedule",
        "title": "When does computer backup run?",
        "summary": "Backup watches for changes continuously; a full check runs every night so that nothing is missed.",
        "tags": ["backup"],
        "body": [
            (
                "p",
                "Changes are backed up within minutes. Once a night, when the computer is idle, Lumen also compares every backed-up file with the cloud copy, which catches changes made while the app was closed.",
            ),
            (
                "info",
                "<p>Laptops running on battery postpone the nightly check until they are plugged in.</p>",
            ),
        ],
    },
    # --- Account and billing -------------------------------------------------------------------
    {
        "category": "account-and-billing",
        "slug": "plans-compared",
        "title": "Lumen plans compared",
        "summary": "Starter, Business and Enterprise differ in storage, version history and admin controls.",
        "tags": ["billing", "plans"],
        "body": [
            (
                "table",
                [
                    ["", "Starter", "Business", "Enterprise"],
                    [
                        "Storage",
                        "1 TB per team",
                        "3 TB per user",
                        "As much as you need",
                    ],
                    ["Version history", "30 days", "180 days", "365 days"],
                    ["Single sign-on", "No", "Yes", "Yes"],
                    ["Audit log", "No", "90 days", "Unlimited"],
                    ["Support", "Email", "Email and chat", "Named contact"],
                ],
                "Plans at a glance",
            ),
            (
                "p",
                "You can change plans at any time; upgrades apply at once, downgrades at the end of the billing period.",
            ),
        ],
    },
    {
        "category": "account-and-billing",
        "slug": "change-payment-method",
        "title": "Change your payment method",
        "summary": "Team owners can switch cards or move to invoice billing from the Billing page.",
        "tags": ["billing"],
        "body": [
            (
                "steps",
                [
                    (
                        "Open Billing",
                        "<p>On the Lumen website, choose your team name › <b>Billing</b>.</p>",
                    ),
                    (
                        "Payment method",
                        "<p>Select <b>Change</b> and enter the new card. The old card is removed after the next successful charge.</p>",
                    ),
                ],
            ),
            (
                "info",
                "<p>Annual plans with more than 20 seats can pay by bank transfer against an invoice.</p>",
            ),
        ],
    },
    {
        "category": "account-and-billing",
        "slug": "download-invoices",
        "title": "Download your invoices",
        "summary": "Every invoice is available as a PDF on the Billing page, with your company's tax details.",
        "tags": ["billing", "invoices"],
        "audience": "customers",
        "body": [
            (
                "p",
                "Open <b>Billing</b> › <b>Invoices</b>. Each line has a PDF download. To add a VAT number or a purchase-order reference to future invoices, edit <b>Billing details</b>.",
            ),
            (
                "tip",
                "<p>Send invoices automatically to your accounts team: add their address under <b>Billing contacts</b>.</p>",
            ),
        ],
    },
    {
        "category": "account-and-billing",
        "slug": "volume-licence-quote",
        "title": "Request a quote for 100+ seats",
        "summary": "Teams of a hundred people or more get volume pricing; this page explains what we need for a quote.",
        "tags": ["billing", "plans"],
        "audience": "customers",
        "body": [
            (
                "p",
                "Send us the number of seats, the plan you are interested in and whether you need invoice billing. We answer within two working days with a quote valid for 60 days.",
            ),
            (
                "p",
                "Include your current renewal date if you already use Lumen, so that the new price starts on that date and you do not pay twice.",
            ),
        ],
    },
    {
        "category": "account-and-billing",
        "slug": "cancel-subscription",
        "title": "Cancel your subscription",
        "summary": "Cancelling stops renewal; your files stay available to download for 30 days after the plan ends.",
        "tags": ["billing", "account"],
        "body": [
            (
                "p",
                "Team owners can cancel under <b>Billing</b> › <b>Cancel plan</b>. The plan stays active until the end of the period you paid for.",
            ),
            (
                "warning",
                "<p>Thirty days after the plan ends, files are deleted permanently. Download what you need first.</p>",
            ),
        ],
    },
    {
        "category": "account-and-billing",
        "slug": "change-email-address",
        "title": "Change the email address of your account",
        "summary": "You can change your sign-in email from Account settings; we confirm the new address before switching.",
        "tags": ["account"],
        "body": [
            (
                "p",
                "Open <b>Account</b> › <b>Profile</b> and edit your email. We send a confirmation link to the new address; until you click it, you keep signing in with the old one.",
            ),
            (
                "info",
                "<p>If your team uses single sign-on, your email comes from your company directory and can only be changed there.</p>",
            ),
        ],
    },
    {
        "category": "account-and-billing",
        "slug": "annual-refund-rules",
        "title": "Refund rules for annual plans (agents)",
        "summary": "Internal guidance: when agents may refund an annual plan, and how much.",
        "tags": ["billing", "refunds", "internal"],
        "audience": "agents",
        "body": [
            (
                "p",
                "Customers can get a full refund within 14 days of the first annual payment. After that, refunds are pro rata for unused whole months, and only when the customer's ticket shows a service problem we could not fix.",
            ),
            (
                "table",
                [
                    ["Situation", "Refund", "Approval"],
                    ["Within 14 days of purchase", "Full", "Agent"],
                    ["Unfixed service problem", "Unused months", "Supervisor"],
                    [
                        "Changed their mind after 14 days",
                        "None; offer downgrade at renewal",
                        "-",
                    ],
                ],
                "Refund matrix",
            ),
            (
                "warning",
                "<p>Never promise a refund in a reply before the billing team has confirmed it.</p>",
            ),
        ],
    },
    # --- Security and privacy ---------------------------------------------------------------------
    {
        "category": "security-and-privacy",
        "slug": "two-step-sign-in",
        "title": "Turn on two-step sign-in",
        "summary": "Protect your Lumen account with an authenticator app and keep recovery codes somewhere safe.",
        "tags": ["security", "account"],
        "body": [
            (
                "steps",
                [
                    ("Open Account › Security", ""),
                    (
                        "Choose Set up two-step sign-in",
                        "<p>Scan the QR code with an authenticator app such as the one on your phone.</p>",
                    ),
                    (
                        "Enter the six-digit code",
                        "<p>This proves the app is set up correctly.</p>",
                    ),
                    (
                        "Save your recovery codes",
                        "<p>Print them or store them in a password manager. Each code works once.</p>",
                    ),
                ],
            ),
            (
                "warning",
                "<p>Without your phone or a recovery code, support has to verify your identity before you can sign in again, which takes time.</p>",
            ),
        ],
    },
    {
        "category": "security-and-privacy",
        "slug": "how-files-are-encrypted",
        "title": "How Lumen encrypts your files",
        "summary": "Files are encrypted in transit with TLS and at rest with AES-256; Enterprise teams can hold their own keys.",
        "tags": ["security", "encryption"],
        "body": [
            (
                "p",
                "Every connection between your devices and Lumen uses TLS 1.3. Stored file blocks are encrypted with AES-256, each with its own key, and those keys are themselves encrypted with a key held in a hardware security module.",
            ),
            ("h", "Bring your own key"),
            (
                "p",
                "Enterprise teams can keep the top-level key in their own cloud key service. Revoking it makes the team's files unreadable to Lumen, including to our support staff.",
            ),
        ],
    },
    {
        "category": "security-and-privacy",
        "slug": "remote-wipe",
        "title": "Wipe Lumen files from a lost device",
        "summary": "Remote wipe deletes Lumen files from a lost or stolen laptop or phone the next time it goes online.",
        "tags": ["security", "devices"],
        "body": [
            (
                "p",
                "Go to <b>Account</b> › <b>Devices</b>, choose the device and select <b>Sign out and wipe</b>. The files stay in the cloud and on your other devices.",
            ),
            (
                "info",
                "<p>Team admins can wipe any member's device from the admin console.</p>",
            ),
        ],
    },
    {
        "category": "security-and-privacy",
        "slug": "who-can-see-my-files",
        "title": "Who can see my files?",
        "summary": "Only you and the people you share with; team admins can manage but not silently read your private folders.",
        "tags": ["privacy", "sharing"],
        "body": [
            (
                "p",
                "Files in your own folders are private. Shared folders are visible to their members. Team admins can transfer a departing member's files, but every such action is recorded in the audit log and the member is notified.",
            ),
            (
                "p",
                "Lumen staff cannot open your files. When you ask support to look at a problem file, we ask you to share it with a temporary link.",
            ),
        ],
    },
    {
        "category": "security-and-privacy",
        "slug": "verify-account-ownership",
        "title": "Verifying account ownership before a reset (agents)",
        "summary": "Internal procedure: what to check before removing two-step sign-in or changing an owner's email.",
        "tags": ["security", "internal", "account"],
        "audience": "agents",
        "body": [
            (
                "p",
                "Resetting two-step sign-in hands over every file in an account, so verification is strict. Ask for at least two of the items below and record which ones matched in an internal note.",
            ),
            (
                "table",
                [
                    ["Evidence", "How to check"],
                    [
                        "Last four digits of the card on file",
                        "Billing console › Payment method",
                    ],
                    [
                        "Name of a shared folder created by the user",
                        "Admin console › Folders",
                    ],
                    [
                        "Confirmation from another team admin",
                        "Email from the admin's verified address",
                    ],
                ],
                "Accepted evidence",
            ),
            (
                "warning",
                "<p>Never accept a screenshot as evidence, and never reset for someone writing from an address outside the team's domain.</p>",
            ),
        ],
    },
    {
        "category": "security-and-privacy",
        "slug": "data-residency",
        "title": "Where is my data stored?",
        "summary": "Choose the EU or the US region when you create a team; files and backups stay in that region.",
        "tags": ["privacy", "compliance"],
        "body": [
            (
                "p",
                "Each team's files, versions and backups are stored in one region: the European Union (Frankfurt and Dublin) or the United States (Virginia and Oregon). Metadata such as your name and email is stored in the same region.",
            ),
            ("doc", "dpa", "Data processing summary (text file)"),
        ],
    },
    # --- Troubleshooting ------------------------------------------------------------------------
    {
        "category": "troubleshooting",
        "slug": "sync-is-stuck",
        "title": 'Sync is stuck on "Uploading"',
        "summary": "If the icon has shown a turning arrow for hours, check for a locked file, a full disk or a paused network.",
        "tags": ["sync", "troubleshooting"],
        "related": ["how-sync-works", "bandwidth-limits"],
        "body": [
            (
                "p",
                "Most stalled uploads have one of three causes. Check them in this order.",
            ),
            ("h", "A file is open in another program"),
            (
                "p",
                "Some programs, such as accounting software and databases, lock their files. Lumen waits until the lock is released. Close the program, or exclude its data folder.",
            ),
            ("h", "The disk is full"),
            (
                "p",
                "Lumen needs free space to rebuild files. Keep at least 5% of the disk free.",
            ),
            ("h", "Sync is paused on this network"),
            (
                "p",
                "On metered networks Lumen pauses itself. Check with the command below.",
            ),
            ("code", "bash", "lumen status --verbose"),
            (
                "tip",
                "<p>Still stuck? Include the output of <code>lumen status --verbose</code> when you contact support.</p>",
            ),
        ],
    },
    {
        "category": "troubleshooting",
        "slug": "files-missing-on-other-device",
        "title": "A file is missing on my other computer",
        "summary": "Check that both devices are signed in to the same account, that the folder is selected for sync, and that the file is not excluded.",
        "tags": ["sync", "troubleshooting"],
        "related": ["selective-sync", "ignore-files"],
        "body": [
            (
                "steps",
                [
                    (
                        "Compare accounts",
                        "<p>Click the Lumen icon on both computers: the email at the top must match.</p>",
                    ),
                    (
                        "Check selective sync",
                        "<p>The folder may be online-only on the second computer.</p>",
                    ),
                    (
                        "Check exclusions",
                        "<p>Temporary and system files never sync; neither do files matching your exclusion rules.</p>",
                    ),
                    (
                        "Look on the website",
                        "<p>If the file is on the Lumen website, the first computer uploaded it and the second will follow.</p>",
                    ),
                ],
            ),
        ],
    },
    {
        "category": "troubleshooting",
        "slug": "app-will-not-start",
        "title": "Lumen does not start",
        "summary": "Restart the computer, then reinstall; your files and settings are kept.",
        "tags": ["desktop", "troubleshooting"],
        "body": [
            (
                "p",
                "A failed update can leave the app unable to start. Reinstalling over the existing version is safe: it never touches your Lumen folder.",
            ),
            (
                "code",
                "powershell",
                '# Windows: collect logs before reinstalling\nlumen logs --zip "$env:USERPROFILE\\Desktop\\lumen-logs.zip"',
            ),
            ("p", "Attach the zip file to your ticket if the problem comes back."),
        ],
    },
    {
        "category": "troubleshooting",
        "slug": "slow-first-sync",
        "title": "The first sync is very slow",
        "summary": "The first upload sends everything; later syncs send only changes. Here is how to speed it up.",
        "tags": ["sync", "performance"],
        "related": ["how-sync-works"],
        "body": [
            (
                "p",
                "An office connection with 20 Mbit/s upload moves about 9 GB an hour at best. Hundreds of gigabytes take days, however fast the computer.",
            ),
            (
                "table",
                [
                    ["Data", "20 Mbit/s upload", "100 Mbit/s upload"],
                    ["10 GB", "about 1 hour", "about 15 minutes"],
                    ["100 GB", "about 12 hours", "about 2.5 hours"],
                    ["1 TB", "about 5 days", "about 1 day"],
                ],
                "Rough first-upload times",
            ),
            (
                "tip",
                "<p>Start the first sync on Friday evening, and set the upload limit to unlimited over the weekend.</p>",
            ),
        ],
    },
    {
        "category": "troubleshooting",
        "slug": "error-codes",
        "title": "Lumen error codes explained",
        "summary": "What the codes in Lumen's error messages mean and what to do about each one.",
        "tags": ["troubleshooting"],
        "body": [
            (
                "table",
                [
                    ["Code", "Meaning", "What to do"],
                    [
                        "L-101",
                        "Not enough disk space",
                        "Free some space or use selective sync",
                    ],
                    [
                        "L-204",
                        "File name not allowed on another device",
                        "Rename the file; avoid characters like : and ?",
                    ],
                    [
                        "L-309",
                        "Path too long on Windows",
                        "Move the file to a shorter path",
                    ],
                    ["L-412", "Team storage full", "Ask your admin to add storage"],
                    [
                        "L-503",
                        "Lumen service unavailable",
                        "Wait; check status.lumen.example",
                    ],
                ],
                "Common error codes",
            ),
        ],
    },
    {
        "category": "troubleshooting",
        "slug": "proxy-and-firewall",
        "title": "Lumen behind a proxy or firewall",
        "summary": "Lumen needs outbound HTTPS to a few hostnames; here is the list for your firewall team.",
        "tags": ["network", "admin"],
        "body": [
            (
                "p",
                "Lumen only makes outbound connections on port 443. Allow these hostnames, and do not inspect TLS for them, because Lumen pins its certificates.",
            ),
            (
                "code",
                "yaml",
                "allow:\n  - api.lumen.example\n  - blocks.lumen.example\n  - notify.lumen.example\nport: 443\ntls_inspection: off",
            ),
            (
                "p",
                "Proxy settings are read from the system; to override them, use Preferences › Network › Proxy.",
            ),
        ],
    },
    {
        "category": "troubleshooting",
        "slug": "escalate-data-loss",
        "title": "Escalating a possible data-loss report (agents)",
        "summary": "Internal playbook: what to collect and whom to page when a customer says files have disappeared.",
        "tags": ["internal", "escalation", "backup"],
        "audience": "agents",
        "related": ["recover-deleted-files"],
        "body": [
            (
                "p",
                'Most "lost" files are in the trash, in another account or online-only. Rule those out first with the customer, but do not let a real incident wait.',
            ),
            (
                "steps",
                [
                    (
                        "Check the trash and version history with the customer",
                        "<p>Use screen sharing if they are unsure where to look.</p>",
                    ),
                    (
                        "Collect evidence",
                        "<p>Team ID, folder path, approximate time, and <code>lumen status --verbose</code> output from each affected device.</p>",
                    ),
                    (
                        "Escalate",
                        "<p>If files are missing from both the trash and history, set priority to <b>critical</b> and assign to the Storage on-call queue.</p>",
                    ),
                ],
            ),
            (
                "warning",
                "<p>Never ask the customer to reinstall or wipe a device during a data-loss investigation: it may destroy the local copies we need.</p>",
            ),
        ],
    },
    {
        "category": "troubleshooting",
        "slug": "linux-arm",
        "title": "Running Lumen on Linux ARM devices",
        "summary": "Lumen runs on 64-bit ARM Linux, including Raspberry Pi 4 and newer; this guide covers installation and limits.",
        "tags": ["linux", "cli", "install"],
        "awaiting_approval": True,
        "body": [
            (
                "p",
                "The ARM64 build is the same as the x86 one and uses the same commands. A Raspberry Pi makes a good always-on backup target for a small office.",
            ),
            (
                "code",
                "bash",
                "curl -fsSLO https://lumen.example/download/lumen-linux-arm64.deb\nsudo apt install ./lumen-linux-arm64.deb\nlumen start && lumen status",
            ),
            (
                "warning",
                "<p>Use an SSD or a hard disk, not the SD card, for the Lumen folder: SD cards wear out under constant writes.</p>",
            ),
        ],
    },
    # --- Team administration ------------------------------------------------------------------
    {
        "category": "team-administration",
        "slug": "invite-members",
        "title": "Invite people to your team",
        "summary": "Admins invite members by email; invited people get a seat as soon as they accept.",
        "tags": ["admin", "members"],
        "body": [
            (
                "steps",
                [
                    (
                        "Open the admin console",
                        "<p>Choose your team name › <b>Admin console</b> › <b>Members</b>.</p>",
                    ),
                    (
                        "Invite",
                        "<p>Enter one or more email addresses, separated by commas.</p>",
                    ),
                    (
                        "Choose a role",
                        "<p>Member, Admin or Billing admin; you can change it later.</p>",
                    ),
                ],
            ),
            (
                "tip",
                "<p>Turn on <b>Automatic joining</b> to let anyone with your company's email domain join without an invitation.</p>",
            ),
        ],
    },
    {
        "category": "team-administration",
        "slug": "roles-and-permissions",
        "title": "Team roles and what they can do",
        "summary": "Members use Lumen; admins manage members and policies; billing admins manage payment only.",
        "tags": ["admin", "members", "security"],
        "related": ["invite-members"],
        "body": [
            (
                "table",
                [
                    ["Can…", "Member", "Billing admin", "Admin"],
                    ["Sync and share files", "Yes", "Yes", "Yes"],
                    ["Invite and remove members", "No", "No", "Yes"],
                    ["Change plan and payment", "No", "Yes", "Yes"],
                    ["See the audit log", "No", "No", "Yes"],
                    ["Wipe a member's device", "No", "No", "Yes"],
                ],
                "Team roles",
            ),
        ],
    },
    {
        "category": "team-administration",
        "slug": "offboarding",
        "title": "Remove someone who leaves the team",
        "summary": "Removing a member frees their seat and lets you transfer their files to a colleague.",
        "tags": ["admin", "members"],
        "body": [
            (
                "p",
                "In <b>Members</b>, choose the person › <b>Remove from team</b>. Lumen signs them out everywhere and asks whom to give their files to.",
            ),
            (
                "warning",
                "<p>If you skip the transfer, their private files are kept for 30 days and then deleted.</p>",
            ),
            ("doc", "checklist", "Offboarding checklist (text file)"),
        ],
    },
    {
        "category": "team-administration",
        "slug": "storage-quotas",
        "title": "Set storage quotas for members",
        "summary": "Quotas stop one person's video archive from filling the whole team's storage.",
        "tags": ["admin", "storage"],
        "body": [
            (
                "p",
                "Quotas are off by default. Turn them on under <b>Admin console</b> › <b>Storage</b>, and set a default for everyone with exceptions for individuals.",
            ),
            (
                "info",
                "<p>Shared folders count against the quota of the person who created them.</p>",
            ),
        ],
    },
    {
        "category": "team-administration",
        "slug": "single-sign-on",
        "title": "Set up single sign-on (SSO)",
        "summary": "Business and Enterprise teams can sign in through their identity provider with SAML 2.0.",
        "tags": ["admin", "security", "sso"],
        "body": [
            (
                "steps",
                [
                    (
                        "Create a SAML app in your identity provider",
                        "<p>Use the entity ID and reply URL shown in Admin console › Security › SSO.</p>",
                    ),
                    (
                        "Upload the metadata",
                        "<p>Paste the metadata URL or upload the XML file.</p>",
                    ),
                    (
                        "Test with one account",
                        "<p>Keep a non-SSO admin account until the test works.</p>",
                    ),
                    (
                        "Require SSO",
                        "<p>Turn on <b>Require SSO</b> so that passwords stop working.</p>",
                    ),
                ],
            ),
            (
                "code",
                "json",
                '{\n  "entity_id": "https://lumen.example/saml/TEAM_ID",\n  "acs_url": "https://lumen.example/saml/TEAM_ID/acs",\n  "name_id_format": "emailAddress"\n}',
            ),
        ],
    },
    {
        "category": "team-administration",
        "slug": "audit-log",
        "title": "Read the team audit log",
        "summary": "The audit log lists sign-ins, sharing changes, deletions and admin actions, and can be exported.",
        "tags": ["admin", "security", "compliance"],
        "body": [
            (
                "p",
                "Open <b>Admin console</b> › <b>Audit log</b>. Filter by person, action or date, and export the result as CSV for your security team.",
            ),
            (
                "image",
                "audit-log",
                "The audit log filtered to sharing changes in the last week.",
            ),
        ],
    },
]

# Reader feedback for the demo: (article slug, helpful, comment), anonymous sessions.
FEEDBACK = [
    (
        "sync-is-stuck",
        True,
        "The lumen status command showed the locked file straight away.",
    ),
    ("sync-is-stuck", True, ""),
    ("sync-is-stuck", False, "My disk is not full and nothing is open, still stuck."),
    ("conflicted-copies", True, ""),
    (
        "conflicted-copies",
        False,
        "How do I stop this happening with our shared Excel file?",
    ),
    ("conflicted-copies", False, ""),
    ("restore-earlier-version", True, "Saved my afternoon."),
    ("install-lumen", True, ""),
    (
        "slow-first-sync",
        False,
        "The table helped but I need to know how to seed from a disk.",
    ),
    ("slow-first-sync", False, ""),
    ("two-step-sign-in", True, ""),
    ("what-is-lumen", True, ""),
]

# Demo view counts (article slug, views in the last days) for "popular articles".
VIEWS = [
    ("sync-is-stuck", 240),
    ("install-lumen", 180),
    ("restore-earlier-version", 150),
    ("conflicted-copies", 120),
    ("share-links", 90),
    ("two-step-sign-in", 60),
]
