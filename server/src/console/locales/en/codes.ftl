# The unlock-code desk (console/codes.html). English.

codes-title = Unlock codes
codes-intro = For a customer whose phone is locked and has no internet: they read out the request code on their lock screen, you give them an unlock code.
codes-device = Device id or customer reference
codes-device-hint = The device id, or your customer reference if only one device has it.
codes-challenge-hint = The 8 digits on the customer's lock screen ("Your request code").
codes-submit = Get the unlock code
codes-answer-heading = Unlock code for { $name }
codes-answer-days = Read it to the customer. It unlocks the phone for { $text }.
codes-day-one = 1 day
codes-days-other = { $days } days
codes-error-several = Several devices have this customer reference. Pick one and use its device id:
codes-error-no-device = No device of yours has this id or customer reference.
codes-error-challenge = These digits are not a current request code of this phone. Ask the customer to read them again.
