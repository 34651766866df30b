# Rejea ya mteja kwenye ukurasa wa kifaa (console/device.html) na uingizaji kwenye
# historia yake. Kiswahili.

audit-import = kwa uingizaji { $text }
