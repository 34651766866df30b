# Registering a sale (console/sale_new.html) and its provisioning QR (console/sale_done.html). English.

sale-title = Register a sale
sale-plan-heading = Payment plan
sale-mode-monthly = Installments every month
sale-monthly-hint = For example 6 installments of 1,500 every month from the first due date.
sale-mode-table = My own table of due dates and amounts
sale-add-rows = Add rows
sale-currency-hint = The ISO code of the plan's currency, e.g. KES, UGX, NGN.
sale-grace-hint = Days after a due date before the phone locks.
sale-imei-hint = 14 to 16 digits (dial *#06# on the phone). Lets the phone enroll again after a factory reset.
sale-ref-hint = Your own customer or contract number, to find the device later.
sale-reprovision-hint = Needs the IMEI. A phone that is reset enrolls again by itself.
sale-submit = Register the sale
sale-done-title = Set up the phone
sale-qr-heading = Provisioning QR code
sale-qr-hint = On the new phone's first screen, tap six times and scan this code. The phone sets itself up with your lender's keys.
sale-qr-alt = QR code to set up the phone for this sale
sale-code-heading = One-time enrollment code
sale-code-hint = If the phone asks for it, type this code. It works once.
sale-code-used = This sale's phone has enrolled (or the sale is closed): there is no code to show.
sale-open-device = Open the device
sale-another = Register another sale
sale-error-imei-registered = This IMEI is already registered to one of your devices that is not released.
sale-error-imei-taken = This IMEI belongs to a phone financed elsewhere. It can be registered once that account is released.
