module sonde.test/bigstack

go 1.19
