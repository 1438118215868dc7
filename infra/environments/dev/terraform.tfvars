# Replace with your dev project's values (README: deployment).
project_id               = "laundry-campaigns-dev"
whatsapp_phone_number_id = "000000000000000"
tenants                  = ["11222333000181"]
