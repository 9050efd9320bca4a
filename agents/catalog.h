/* catalog.h — assembles the one parameter registry from every module's
 * table, in a fixed order (world, surface, cell types). */
#ifndef BS_CATALOG_H
#define BS_CATALOG_H

#include "params.h"

/* Caller destroys. NULL on allocation failure or a duplicate name (a
 * programming error, reported in err). */
bs_registry *bs_catalog_registry(bs_error *err);

#endif
