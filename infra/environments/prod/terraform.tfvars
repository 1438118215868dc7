# Replace with your prod project's values (README: deployment).
project_id               = "laundry-campaigns-prod"
whatsapp_phone_number_id = "000000000000000"
tenants                  = []
alert_emails             = []
