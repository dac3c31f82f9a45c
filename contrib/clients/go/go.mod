module genid

go 1.19
