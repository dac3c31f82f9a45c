module github.com/genidproject/genid/contrib/clients/go

go 1.19
