# Rejea ya mteja kwenye ukurasa wa kifaa (console/device.html) na uingizaji kwenye
# historia yake. Kiswahili.

audit-import = kwa uingizaji { $text }
customer-ref-label = Rejea ya mteja
customer-ref-hint = Namba yako ya mteja au ya mkataba, ya kutafutia kifaa (herufi, tarakimu, alama au nafasi 1 hadi 64). Kuibadilisha kunarekodiwa kwenye historia.
customer-ref-submit = Hifadhi rejea
customer-ref-error = Rejea ya mteja ina herufi 1 hadi 64: herufi, tarakimu, alama au nafasi, bila lafudhi.
device-done-customer-ref = Rejea ya mteja imehifadhiwa.
audit-customer-ref-set = Rejea ya mteja imebadilishwa
