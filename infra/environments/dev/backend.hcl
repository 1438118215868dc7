bucket = "laundry-campaigns-dev-tfstate"
prefix = "campaigns/dev"
