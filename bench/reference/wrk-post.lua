-- wrk script: the contract's example create-session request (the body of
-- src/core/contract_example.hpp, which catalyst-bench sends), over keep-alive.
-- Change both together: the two sides of a comparison must do the same work.
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer rk_test_123"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"campaign_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","customer_ip":"203.0.113.50","lead":{"first_name":"Max","last_name":"Mustermann","email":"max@example.com","country":"DE"}}'
