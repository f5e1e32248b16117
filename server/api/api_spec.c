/*
 * api_spec.c - GET /openapi.yaml (see include/api/api_spec.h).
 */
#include "api/api_spec.h"

#include <stdlib.h>
#include <string.h>

enum http_outcome api_spec_get(const struct app *app, struct http_req *req, struct http_resp *resp)
{
	char *copy = malloc(api_spec_yaml_len ? api_spec_yaml_len : 1);

	(void)app;
	(void)req;
	if (!copy)
		return HTTP_FAILED;
	/* the response owns and frees its body */
	memcpy(copy, api_spec_yaml, api_spec_yaml_len);
	http_resp_body(resp, 200, "application/yaml; charset=utf-8", copy, api_spec_yaml_len);
	return HTTP_DONE;
}
