/** The umdev driver SPI: devices other bundles can add to umdev. */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.1.0")
package org.viewos.umdev.api;
