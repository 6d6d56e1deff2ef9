module sonde.example/waitsvc

go 1.19
