# La referencia de cliente en la página del dispositivo (console/device.html) y las
# importaciones en su historial. Español.

audit-import = por la importación { $text }
customer-ref-label = Referencia de cliente
customer-ref-hint = Su propio número de cliente o de contrato, para encontrar el dispositivo (de 1 a 64 letras, dígitos, signos o espacios). El cambio queda en el historial.
customer-ref-submit = Guardar la referencia
customer-ref-error = Una referencia de cliente tiene de 1 a 64 caracteres: letras, dígitos, signos o espacios, sin acentos.
device-done-customer-ref = La referencia de cliente se guardó.
audit-customer-ref-set = Referencia de cliente cambiada
