bucket = "laundry-campaigns-prod-tfstate"
prefix = "campaigns/prod"
