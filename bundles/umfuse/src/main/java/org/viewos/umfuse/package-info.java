/** umfuse: FUSE daemons serve file systems inside a view, without /dev/fuse. */
package org.viewos.umfuse;
