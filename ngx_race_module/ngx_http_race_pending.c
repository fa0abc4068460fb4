
/*
 * ngx_race: what waits for a report, found again by its id.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_race_pending.h"


void
ngx_http_race_pending_init(ngx_http_race_pending_t *p)
{
    ngx_rbtree_init(&p->tree, &p->sentinel, ngx_rbtree_insert_value);
    p->last_id = 0;
}


void
ngx_http_race_pending_add(ngx_http_race_pending_t *p, ngx_rbtree_node_t *node)
{
    node->key = ++p->last_id;
    ngx_rbtree_insert(&p->tree, node);
}


ngx_rbtree_node_t *
ngx_http_race_pending_find(ngx_http_race_pending_t *p, ngx_rbtree_key_t id)
{
    ngx_rbtree_node_t  *node, *sentinel;

    node = p->tree.root;
    sentinel = p->tree.sentinel;

    while (node != sentinel) {

        if (id < node->key) {
            node = node->left;
            continue;
        }

        if (id > node->key) {
            node = node->right;
            continue;
        }

        return node;
    }

    return NULL;
}
