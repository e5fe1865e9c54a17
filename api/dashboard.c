/*
 * dashboard.c - the dashboard page served at GET /, built into the binary.
 */
#include <stddef.h>

#include "api.h"

const char api_dashboard_html[] = "<!doctype html><title>vigil</title>\n";
const size_t api_dashboard_len = sizeof(api_dashboard_html) - 1;
