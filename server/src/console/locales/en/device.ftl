# A device's page (console/device.html), its confirmations, the words every device form
# shares (fields, refusals) and the preview of the phone's screen. English.

device-title = Device
device-facts-heading = Facts
device-state = State
device-days-past-due = Days past due
device-next-due = Next due date
device-amount-due = Amount due now
device-paid = Paid
device-total = Plan total
device-lock-at = Locks at (unless paid)
device-extended-until = Extended until
device-release-at = Released on (completing)
device-lock-reason = Your lock's reason
device-enrolled = Phone
device-last-checkin = Last check-in
device-app-version = App version
device-customer-ref = Customer reference
device-imei = IMEI at sale
device-auto-reprovision = Automatic re-provisioning
device-registered = Registered
device-none = none
device-enrolled-yes = Enrolled
device-enrolled-on = Enrolled on { $date }
device-enrolled-no = Not enrolled yet
device-on = On
device-off = Off
device-imei-yes = Registered
device-imei-none = Not registered

## States and installments
state-current = Current
state-overdue = Overdue
state-locked = Locked
state-completing = Paid in full, completing
state-released = Released
device-plan-heading = Plan and installments
installment-due-date = Due date
installment-amount = Amount
installment-status = Status
installment-paid = Paid
installment-due = Due
installment-overdue = Overdue

## Payments
payments-heading = Payments
payments-none = No payments recorded yet.
payment-voided-on = Voided on { $date }: { $text }
void-reason = Reason to void this payment
void-submit = Void…
payment-form-heading = Record a payment
payment-amount = Amount ({ $currency })
payment-amount-hint = As on the receipt, e.g. 1,500 or 1,500.50.
payment-reference = Reference
payment-reference-hint = The receipt or transaction id (for example the M-Pesa code). One payment per reference.
payment-allow-overpayment = Record it anyway: the amount is more than is owed
payment-submit = Record payment
payment-error-overpayment = This amount is more than is still owed. Check the amount; if it is right, tick "Record it anyway" and send again.
payment-error-duplicate-reference = A payment with this reference is already recorded for this device.

## Actions
actions-heading = Actions
actions-hint = Each action asks you to confirm it. The phone learns of it at its next check-in.
lock-heading = Lock the phone
lock-reason = Reason (the customer sees it on the lock screen)
lock-reason-hint = Up to 350 characters. Write it for the customer: it is shown as "Message from" your name.
lock-submit = Lock…
unlock-heading = Lift your lock
unlock-hint = Lifts the lock you set. A phone locked for an overdue installment stays locked until it is paid or extended.
unlock-submit = Unlock…
extend-heading = Extend (promise to pay)
extend-until = Do not lock before the end of
extend-until-hint = At most 90 days from today.
extend-reason = Reason (for example the promise the customer made)
extend-submit = Extend…
release-heading = Release for good
release-hint = Removes every restriction from the phone for ever. It cannot be undone.
release-submit = Release…

## Confirmations
confirm-title = Please confirm
confirm-cancel = Cancel, change nothing
confirm-reason = Reason: { $text }
confirm-reference = Reference: { $text }
confirm-lock = Lock device { $name }?
confirm-lock-effect = The phone locks at its next check-in and shows your reason on its lock screen. Emergency calls and calling you keep working.
confirm-lock-button = Yes, lock it
confirm-unlock = Lift your lock on device { $name }?
confirm-unlock-effect = The phone unlocks at its next check-in, unless an installment is overdue.
confirm-unlock-button = Yes, unlock it
confirm-extend = Extend the lock to { $date }?
confirm-extend-effect = The phone does not lock for this overdue amount before then.
confirm-extend-button = Yes, extend
confirm-release = Release device { $name } for good?
confirm-release-effect = Every restriction is removed at the phone's next check-in. This cannot be undone.
confirm-release-button = Yes, release it
confirm-void = Void the payment of { $amount }?
confirm-void-effect = The payment no longer counts. If an installment is then overdue, the phone locks again at its next check-in.
confirm-void-button = Yes, void it

## What happened
device-done-payment = The payment is recorded.
device-done-voided = The payment is voided.
device-done-locked = The lock is set. The phone locks at its next check-in.
device-done-unlocked = Your lock is lifted.
device-done-extended = The extension is set.
device-done-released = The device is released for good.

## Refusals and fields
device-error-released = This device is released for good; this can no longer be done.
device-error-not-lender-locked = This phone has no lock of yours to lift. If it is locked for an overdue installment, record the payment or extend.
device-error-lender-locked = This phone is locked by you. Lift your lock first.
device-error-not-enrolled = This phone has not enrolled yet.
device-error-concurrent = The device changed at the same moment. Reload the page and try again.
device-error-conflict = This cannot be done in the device's current state.
device-error-until = The date must be later than the current lock and at most 90 days from today.
error-field-invalid = Please check the field "{ $field }": its value is not accepted.
field-amount = Amount
field-reference = Reference
field-reason = Reason
field-until = Date
field-currency = Currency
field-grace-days = Grace days
field-imei = IMEI (optional)
field-customer-ref = Customer reference (optional)
field-challenge = Request code (8 digits)
field-days = Days unlocked
field-due-date = Due date
field-installments = Installments
field-form = Form
field-count = Number of installments
field-installment-amount = Amount of each installment
field-first-due = First due date
field-row-due = Due date in row { $row }
field-row-amount = Amount in row { $row }
field-auto-reprovision = Allow automatic re-provisioning after a factory reset

## Timeline
timeline-heading = Timeline
actor-staff-unknown = a former staff member
actor-api-key = API key { $name }
actor-api = the API
actor-cli = the server's command line
actor-device = the phone
actor-system = finlock (automatic)
audit-registered = Sale registered
audit-enrolled = Phone enrolled
audit-enrolled-attested = Phone enrolled (attested)
audit-enrollment-answered-again = Enrollment answered again
audit-enrollment-retried = Enrollment retried
audit-enrolled-with-reissued-code = Phone enrolled with a new code
audit-reprovisioned = Phone re-provisioned
audit-reprovisioned-attested = Phone re-provisioned (attested)
audit-payment = Payment recorded
audit-payment-voided = Payment voided
audit-completing = Paid in full: completing
audit-released = Released
audit-locked = Locked
audit-unlocked = Unlocked
audit-extended = Extended
audit-offline-code-issued = Unlock code given
audit-offline-code-used = Unlock code used on the phone
audit-enrollment-code-reissued = New enrollment code
audit-seq-caught-up = Phone caught up after a restore
audit-enrollment-approved = Enrollment request approved
audit-enrollment-refused = Enrollment request refused
audit-rescheduled = Plan rescheduled
audit-auto-reprovision-set = Automatic re-provisioning changed
audit-cancelled = Sale cancelled

## Months (dates are written "14 March 2026")
month-1 = January
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September
month-10 = October
month-11 = November
month-12 = December

## The phone's screen: the app's own words (android-app/src/main/res/values/strings.xml)
preview-heading = What the customer sees
preview-hint = The phone's screen as it is after its next check-in, in the language chosen here.
phone-lock-title = This device is locked
phone-reason-overdue-payment = This device is locked due to an overdue installment payment.
phone-reason-lender-request = Your lender has locked this device. Please contact them.
phone-reason-offline = Connect to the internet to verify your account. This device could not check in for too long.
phone-reason-clock-suspect = Check your date and time, then connect to the internet. The date on this device looks wrong.
phone-lender-name = Lender: { $name }
phone-amount-due = Amount due: { $amount }
phone-due-date = Due date: { $date }
phone-lender-message = Message from { $name }: { $text }
phone-payment-instructions = How to pay: { $text }
phone-emergency-call = Emergency call
phone-call-lender = Call lender { $phone }
phone-pay-now = Pay now
phone-check-now = I have paid — check now
phone-enter-code = Enter unlock code
phone-account-title = Your payment plan
phone-account-ok = Your account is in good standing.
phone-account-completing = Paid in full. On { $date }, once it connects, this phone becomes yours and every restriction is removed.
phone-account-not-enrolled = This device is not enrolled yet.
phone-released-title = Paid in full
phone-released-text = Congratulations! This device is yours. Every restriction has been removed.
