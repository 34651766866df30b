# La referencia de cliente en la página del dispositivo (console/device.html) y las
# importaciones en su historial. Español.

audit-import = por la importación { $text }
