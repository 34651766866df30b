# The device page's customer reference (console/device.html) and imports in its timeline.
# English.

audit-import = by import { $text }
