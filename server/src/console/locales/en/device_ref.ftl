# The device page's customer reference (console/device.html) and imports in its timeline.
# English.

audit-import = by import { $text }
customer-ref-label = Customer reference
customer-ref-hint = Your own customer or contract number, to find the device by (1 to 64 letters, digits, punctuation or spaces). Changing it is recorded in the history.
customer-ref-submit = Save the reference
customer-ref-error = A customer reference has 1 to 64 characters: letters, digits, punctuation or spaces, without accents.
device-done-customer-ref = The customer reference was saved.
audit-customer-ref-set = Customer reference changed
